#pragma once
// MlperfLink: drives an MLPerf Tiny / EEMBC DUT over its text command set
// (`name%`, `profile%`, `db load N%`, `db HEX%`, `infer N W%`, `results%`); every reply
// ends with a line `m-ready`, errors are `e-[...]` lines. Works with any DUT firmware that
// speaks it, including the TinyML agent. Threading: see DeviceLink.h.

#include "device/DeviceLink.h"

#include <QStringList>
#include <QVector>

#include <optional>

namespace tinyml {

/// The lines of one reply up to (not including) `m-ready`.
struct MlperfReply {
    QStringList lines;
    QStringList errors;           ///< the text inside `e-[...]`
};

/// What `infer N W%` measured.
struct MlperfInference {
    QVector<qint64> lapsUs;       ///< one `m-lap-us-N` per line the DUT printed
    /// The outputs of the last run when the DUT printed an `m-results-[...]` line in the infer
    /// reply (newer DUTs, the runner's current protocol); older ones answer `results%` instead.
    std::optional<QVector<float>> results;
    /// Microseconds between the first two laps (the timed runs); nullopt with fewer laps.
    std::optional<qint64> elapsedUs() const;
};

class MlperfLink : public DeviceLink
{
    Q_OBJECT
public:
    static constexpr int kDefaultTimeoutMs = 2000;
    /// Input bytes per `db HEX%` command: the EEMBC runner's default and safe for small
    /// DUT receive buffers.
    static constexpr int kHexChunkBytes = 64;

    explicit MlperfLink(QObject *parent = nullptr);

    /// Sends `command%` and waits for `m-ready`. A reply with `e-[...]` lines returns
    /// nullopt with the errors joined in *error (the reply is still in lastReply()).
    std::optional<MlperfReply> command(const QString &command, int timeoutMs, QString *error);
    MlperfReply lastReply() const { return m_lastReply; }

    std::optional<QString> name(QString *error);        ///< `m-name-dut-[X]` -> X
    std::optional<QStringList> profile(QString *error); ///< the bracketed fields, "key=value"
    /// The benchmark id ("kws01") from a profile() answer's `m-model-[...]`, else empty.
    static QString benchmarkId(const QStringList &profileFields);
    /// `db load N%` then `db HEX%` chunks.
    bool loadInput(const QByteArray &bytes, QString *error);
    std::optional<MlperfInference> infer(int runs, int warmups, int timeoutMs, QString *error);
    std::optional<QVector<float>> results(QString *error);

    // Pure parsers of single reply lines (unit tests, fuzzing).
    /// "m-<key>-[value]" -> value; nullopt if the line is not that key.
    static std::optional<QString> bracketValue(const QString &line, const QString &key);
    static std::optional<qint64> lapMicroseconds(const QString &line);
    static std::optional<QVector<float>> parseResults(const QString &line);

Q_SIGNALS:
    /// Every text line received (for a console view).
    void lineReceived(const QString &line);

protected:
    void handleBytes(const QByteArray &bytes) override;

private:
    QByteArray m_buffer;
    MlperfReply m_current;
    MlperfReply m_lastReply;
    bool m_waiting = false;
    bool m_ready = false;
};

} // namespace tinyml
