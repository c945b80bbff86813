#pragma once
// The cycle model's side channel: the text file the QEMU plugin firmware-agent/qemu-plugin
// (libtinyml_cycles.so) writes while a virtual board runs, format 1 as its README describes:
//
//     tinyml-cycles format=1 core=m4 model=cortex-m4-trm-r0p1/1 ws=0 branches=exact flash=0x0+0x400000
//     mark kind=invoke_begin seq=12 cycles=4389633 insns=2490650 low=4373624 high=4434770
//     ...
//     total cycles=... insns=... marks=62 ...
//
// It is outside input (another process writes it, a user may point at any file): every line
// is bounded, every number range-checked, and every error names the file, the line and the
// field. Unknown record words and unknown keys are ignored (later formats only add).
//
// The file grows for QEMU's whole life, so a reader remembers how far it has read:
//
//     CycleSideChannel ch(board.cycleChannelPath());
//     ch.catchUp(&err);            // before the runs of interest: skip what is there
//     ... INVOKE x N ...           // the plugin flushes each mark before the agent replies
//     auto marks = ch.readNew(&err);
//     auto runs = pairInvokes(*marks, &err);   // one InvokeCycles per run
//
// A last line without its newline (the plugin is writing it) is left for the next read.
// Not thread-safe; one reader per object.

#include <QByteArray>
#include <QString>
#include <QVector>

#include <optional>

namespace tinyml::deploy {

/// The first line: which timing model produced the numbers.
struct CycleChannelHeader {
    int format = 0;               ///< 1 for the format described above; later formats only add
    QString core;                 ///< "m4", "m7"
    QString model;                ///< timing table and its version: "cortex-m4-trm-r0p1/1"
    int waitStates = 0;           ///< flash wait states the plugin charged (ws=)
    QString branches;             ///< "exact"; "static" runs are not valid estimates
};

enum class CycleMarkKind { InvokeBegin, InvokeEnd, LayerEnd, LayerResume, User, Unknown };

/// One `mark` line. Values are cumulative since QEMU started, at the marker's entry.
struct CycleMark {
    CycleMarkKind kind = CycleMarkKind::Unknown;
    quint64 seq = 0;
    quint64 cycles = 0;
    quint64 insns = 0;
    quint64 low = 0;              ///< lower bound of cycles (see the plugin's Approximations)
    quint64 high = 0;             ///< upper bound of cycles
    qint64 line = 0;              ///< 1-based line in the file, for messages
};

/// Largest accepted value: numbers travel on as JSON doubles, exact up to 2^53.
constexpr quint64 kCycleChannelMaxValue = quint64(1) << 53;
/// Longest accepted line (the plugin's longest, `total`, is about 200 bytes).
constexpr int kCycleChannelMaxLine = 1024;

/// What one chunk of the file held.
struct CycleChannelChunk {
    std::optional<CycleChannelHeader> header;  ///< when the chunk held the first line
    QVector<CycleMark> marks;
    bool sawTotal = false;                     ///< QEMU has exited
    qint64 consumedBytes = 0;                  ///< complete lines parsed; the rest is an unfinished line
    qint64 lines = 0;                          ///< complete lines parsed
};

/// Parses the complete lines of text, the first being line firstLine of file (used in
/// messages only). firstLine 1 must be the header. A trailing unfinished line is not an error:
/// consumedBytes stops before it. Checks each mark's fields (present, decimal, at most 2^53,
/// low <= cycles <= high) and that seq counts up by one and cycles/insns never decrease
/// from previousMark on (nullptr: no earlier mark). False with *error naming file, line and
/// field on the first bad line.
bool parseCycleChannel(const QByteArray &text, qint64 firstLine, const QString &file,
                       const CycleMark *previousMark, CycleChannelChunk *out, QString *error);

/// Reads a side-channel file incrementally (see the header's overview).
class CycleSideChannel
{
public:
    explicit CycleSideChannel(QString path = {});

    QString path() const { return m_path; }
    /// The header, once line 1 has been read (by catchUp or readNew).
    const std::optional<CycleChannelHeader> &header() const { return m_header; }

    /// Parses everything written so far (header included) and drops the marks: the next
    /// readNew() returns only what is written after this call.
    bool catchUp(QString *error);
    /// The marks written since the last catchUp()/readNew(); nullopt with *error when the
    /// file cannot be read or a line is bad (the reader then stays where it was).
    std::optional<QVector<CycleMark>> readNew(QString *error);
    /// Byte offset of the next unread line.
    qint64 offset() const { return m_offset; }

    /// Largest amount read in one go; a bigger backlog is read in several steps.
    static constexpr qint64 kMaxRead = 64 * 1024 * 1024;

private:
    std::optional<CycleChannelChunk> readChunk(QString *error);

    QString m_path;
    qint64 m_offset = 0;
    qint64 m_nextLine = 1;
    std::optional<CycleChannelHeader> m_header;
    std::optional<CycleMark> m_lastMark;
};

// --- pairing the marks (the agent's marker placement: qemu-plugin/README.md) -----------------

/// One model run between invoke_begin and invoke_end: differences of the two marks.
struct InvokeCycles {
    quint64 cycles = 0;
    quint64 insns = 0;
    quint64 low = 0;
    quint64 high = 0;
};

/// The marks of INVOKE / BENCHMARK runs: strictly invoke_begin, invoke_end, ... (user marks
/// are skipped). Layer marks, an unpaired begin or end, or an interval whose end precedes its
/// begin are errors naming the line.
std::optional<QVector<InvokeCycles>> pairInvokes(const QVector<CycleMark> &marks, QString *error);

/// The marks of LAYER_PROFILE runs: per run invoke_begin, then layer_end / layer_resume for
/// each of the model's layers, then invoke_end. Layer k runs from invoke_begin (k = 0) or the
/// previous layer_resume to its layer_end; layer_end -> layer_resume is the agent's hook and
/// belongs to no layer, as with the agent's counter.
struct LayerRunCycles {
    int runs = 0;
    QVector<quint64> layerCycles;  ///< per layer, the minimum over the runs (as the agent keeps)
    QVector<quint64> layerInsns;   ///< per layer, the minimum over the runs
    /// The run with the fewest cycles, split exactly: its layers + hooks + tail = invoke.
    quint64 invokeCycles = 0;
    quint64 hookCycles = 0;        ///< sum of its layer_end -> layer_resume intervals
    quint64 tailCycles = 0;        ///< its last layer_resume -> invoke_end
    quint64 layerSumCycles = 0;    ///< sum of its layers
};
std::optional<LayerRunCycles> pairLayerRuns(const QVector<CycleMark> &marks, int layers, QString *error);

/// "m4" for "m4", "cortex-m4", "Cortex-M4"; likewise m7; empty for anything else.
QString normalizedCycleCore(const QString &core);
/// "Cortex-M4" for "m4".
QString cycleCoreDisplayName(const QString &core);
/// What every estimated figure is labelled with:
/// "estimated (Cortex-M4 timing model, zero wait states)".
QString cycleModelLabel(const QString &core, int waitStates);

} // namespace tinyml::deploy
