#include "CycleSideChannel.h"

#include <QFile>

#include <algorithm>

namespace tinyml::deploy {

namespace {

QString where(const QString &file, qint64 line)
{
    return QStringLiteral("%1: line %2").arg(file.isEmpty() ? QStringLiteral("cycle side channel") : file).arg(line);
}

/// Printable ASCII only: the plugin writes nothing else, and anything else in a message
/// would garble the terminal.
bool isText(const QByteArray &line)
{
    return std::all_of(line.begin(), line.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

QString shown(const QByteArray &bytes)
{
    return isText(bytes) ? QString::fromLatin1(bytes.left(40)) + (bytes.size() > 40 ? QStringLiteral("...") : QString())
                         : QStringLiteral("(%1 bytes, not text)").arg(bytes.size());
}

/// key=value fields of one record, after its first word.
class Fields
{
public:
    bool parse(const QList<QByteArray> &words, QString *problem)
    {
        for (int i = 1; i < words.size(); ++i) {
            const QByteArray &w = words[i];
            const int eq = w.indexOf('=');
            if (eq <= 0) {
                *problem = QStringLiteral("\"%1\" is not key=value").arg(shown(w));
                return false;
            }
            const QByteArray key = w.left(eq);
            if (m_keys.contains(key)) {
                *problem = QStringLiteral("field %1 given twice").arg(QString::fromLatin1(key));
                return false;
            }
            m_keys << key;
            m_values << w.mid(eq + 1);
        }
        return true;
    }
    std::optional<QByteArray> value(const char *key) const
    {
        const int i = int(m_keys.indexOf(QByteArray(key)));
        return i < 0 ? std::nullopt : std::optional<QByteArray>(m_values[i]);
    }

private:
    QList<QByteArray> m_keys;
    QList<QByteArray> m_values;
};

/// A decimal number in [0, max]; nullopt with *problem naming the field.
std::optional<quint64> number(const Fields &f, const char *key, bool required, quint64 fallback, quint64 max,
                              QString *problem)
{
    const auto v = f.value(key);
    if (!v) {
        if (required)
            *problem = QStringLiteral("field %1 is missing").arg(QLatin1String(key));
        return required ? std::nullopt : std::optional<quint64>(fallback);
    }
    if (v->isEmpty() || !std::all_of(v->begin(), v->end(), [](char c) { return c >= '0' && c <= '9'; })) {
        *problem = QStringLiteral("field %1: \"%2\" is not a decimal number").arg(QLatin1String(key), shown(*v));
        return std::nullopt;
    }
    // 16 digits already exceed 2^53 (about 9.0e15) when they start above 9: check the
    // length before converting so a hundred digits cannot overflow the conversion.
    bool ok = v->size() <= 16;
    const quint64 n = ok ? v->toULongLong(&ok) : 0;
    if (!ok || n > max) {
        *problem = QStringLiteral("field %1: %2 is larger than %3").arg(QLatin1String(key), shown(*v)).arg(max);
        return std::nullopt;
    }
    return n;
}

CycleMarkKind markKind(const QByteArray &k)
{
    if (k == "invoke_begin")
        return CycleMarkKind::InvokeBegin;
    if (k == "invoke_end")
        return CycleMarkKind::InvokeEnd;
    if (k == "layer_end")
        return CycleMarkKind::LayerEnd;
    if (k == "layer_resume")
        return CycleMarkKind::LayerResume;
    if (k == "user")
        return CycleMarkKind::User;
    return CycleMarkKind::Unknown;
}

const char *kindName(CycleMarkKind k)
{
    switch (k) {
    case CycleMarkKind::InvokeBegin: return "invoke_begin";
    case CycleMarkKind::InvokeEnd: return "invoke_end";
    case CycleMarkKind::LayerEnd: return "layer_end";
    case CycleMarkKind::LayerResume: return "layer_resume";
    case CycleMarkKind::User: return "user";
    case CycleMarkKind::Unknown: break;
    }
    return "unknown";
}

} // namespace

bool parseCycleChannel(const QByteArray &text, qint64 firstLine, const QString &file,
                       const CycleMark *previousMark, CycleChannelChunk *out, QString *error)
{
    *out = CycleChannelChunk{};
    std::optional<CycleMark> previous;
    if (previousMark)
        previous = *previousMark;
    qint64 pos = 0;
    qint64 lineNo = firstLine;
    auto bad = [&](const QString &what) {
        if (error)
            *error = QStringLiteral("%1: %2").arg(where(file, lineNo), what);
        return false;
    };
    while (pos < text.size()) {
        const qint64 nl = text.indexOf('\n', pos);
        const qint64 end = nl < 0 ? text.size() : nl;
        if (end - pos > kCycleChannelMaxLine)
            return bad(QStringLiteral("longer than %1 bytes: not a cycle side channel line").arg(kCycleChannelMaxLine));
        if (nl < 0)
            break; // unfinished: the plugin is still writing it
        QByteArray line = text.mid(pos, end - pos);
        if (line.endsWith('\r'))
            line.chop(1);
        if (!isText(line))
            return bad(QStringLiteral("holds bytes that are not printable ASCII: not a cycle side channel line"));

        const QList<QByteArray> words = line.split(' ');
        const QByteArray record = words.value(0);
        QString problem;
        if (lineNo == 1) {
            if (record != "tinyml-cycles")
                return bad(QStringLiteral("expected the header \"tinyml-cycles format=...\", found \"%1\"").arg(shown(line)));
            Fields f;
            if (!f.parse(words, &problem))
                return bad(problem);
            CycleChannelHeader h;
            const auto format = number(f, "format", true, 0, 1000, &problem);
            const auto ws = format ? number(f, "ws", false, 0, 15, &problem) : std::nullopt;
            if (!format || !ws)
                return bad(problem);
            if (*format < 1)
                return bad(QStringLiteral("field format: 0 is not a format"));
            h.format = int(*format);
            h.waitStates = int(*ws);
            h.core = QString::fromLatin1(f.value("core").value_or(QByteArray()));
            h.model = QString::fromLatin1(f.value("model").value_or(QByteArray()));
            h.branches = QString::fromLatin1(f.value("branches").value_or(QByteArray("exact")));
            if (h.core.isEmpty())
                return bad(QStringLiteral("field core is missing"));
            if (h.model.isEmpty())
                return bad(QStringLiteral("field model is missing"));
            out->header = h;
        } else if (record == "tinyml-cycles") {
            return bad(QStringLiteral("a second header: two QEMU runs wrote into one file"));
        } else if (record == "mark") {
            Fields f;
            if (!f.parse(words, &problem))
                return bad(problem);
            CycleMark m;
            m.line = lineNo;
            m.kind = markKind(f.value("kind").value_or(QByteArray()));
            if (!f.value("kind"))
                return bad(QStringLiteral("field kind is missing"));
            const auto seq = number(f, "seq", true, 0, kCycleChannelMaxValue, &problem);
            const auto cycles = seq ? number(f, "cycles", true, 0, kCycleChannelMaxValue, &problem) : std::nullopt;
            const auto insns = cycles ? number(f, "insns", true, 0, kCycleChannelMaxValue, &problem) : std::nullopt;
            const auto low = insns ? number(f, "low", false, *cycles, kCycleChannelMaxValue, &problem) : std::nullopt;
            const auto high = low ? number(f, "high", false, *cycles, kCycleChannelMaxValue, &problem) : std::nullopt;
            if (!high)
                return bad(problem);
            m.seq = *seq;
            m.cycles = *cycles;
            m.insns = *insns;
            m.low = *low;
            m.high = *high;
            if (m.low > m.cycles || m.cycles > m.high)
                return bad(QStringLiteral("bounds low=%1 cycles=%2 high=%3 are not in order").arg(m.low).arg(m.cycles).arg(m.high));
            if (previous) {
                if (m.seq != previous->seq + 1)
                    return bad(QStringLiteral("mark seq=%1 follows seq=%2 (line %3): marks are missing or repeated")
                                   .arg(m.seq).arg(previous->seq).arg(previous->line));
                if (m.cycles < previous->cycles || m.insns < previous->insns)
                    return bad(QStringLiteral("cumulative cycles/insns went backwards from line %1").arg(previous->line));
            }
            previous = m;
            out->marks.push_back(m);
        } else if (record == "total") {
            out->sawTotal = true;
        }
        // "unknown" (an undecoded instruction) and records of later formats: nothing to take.
        pos = nl + 1;
        ++lineNo;
        ++out->lines;
    }
    out->consumedBytes = pos;
    return true;
}

CycleSideChannel::CycleSideChannel(QString path) : m_path(std::move(path)) {}

std::optional<CycleChannelChunk> CycleSideChannel::readChunk(QString *error)
{
    QFile f(m_path);
    if (!f.open(QIODevice::ReadOnly)) {
        if (error)
            *error = QStringLiteral("%1: cannot read the cycle side channel: %2").arg(m_path, f.errorString());
        return std::nullopt;
    }
    if (f.size() < m_offset) {
        if (error)
            *error = QStringLiteral("%1: shrank from %2 to %3 bytes while being read (the virtual board restarted?)")
                         .arg(m_path).arg(m_offset).arg(f.size());
        return std::nullopt;
    }
    if (!f.seek(m_offset)) {
        if (error)
            *error = QStringLiteral("%1: cannot seek to %2: %3").arg(m_path).arg(m_offset).arg(f.errorString());
        return std::nullopt;
    }
    const QByteArray bytes = f.read(kMaxRead);
    CycleChannelChunk chunk;
    const CycleMark *previous = m_lastMark ? &*m_lastMark : nullptr;
    if (!parseCycleChannel(bytes, m_nextLine, m_path, previous, &chunk, error))
        return std::nullopt;
    m_offset += chunk.consumedBytes;
    m_nextLine += chunk.lines;
    if (chunk.header)
        m_header = chunk.header;
    if (!chunk.marks.isEmpty())
        m_lastMark = chunk.marks.last();
    return chunk;
}

bool CycleSideChannel::catchUp(QString *error)
{
    return readNew(error).has_value();
}

std::optional<QVector<CycleMark>> CycleSideChannel::readNew(QString *error)
{
    QVector<CycleMark> marks;
    const qint64 startOffset = m_offset;
    const qint64 startLine = m_nextLine;
    const auto startMark = m_lastMark;
    // A backlog larger than one read comes in several; each stops at a whole line.
    for (;;) {
        const qint64 before = m_offset;
        auto chunk = readChunk(error);
        if (!chunk) {
            m_offset = startOffset;
            m_nextLine = startLine;
            m_lastMark = startMark;
            return std::nullopt;
        }
        marks += chunk->marks;
        if (m_offset == before || chunk->consumedBytes < kMaxRead - kCycleChannelMaxLine)
            break;
    }
    return marks;
}

// --- pairing ------------------------------------------------------------------------------------

namespace {

QString markText(const CycleMark &m)
{
    return QStringLiteral("line %1 (%2 seq=%3)").arg(m.line).arg(QLatin1String(kindName(m.kind))).arg(m.seq);
}

InvokeCycles between(const CycleMark &a, const CycleMark &b)
{
    // Cumulative values only grow (checked by the parser), so the differences are >= 0;
    // low/high are bounds of each end: the interval's bounds are their differences.
    return {b.cycles - a.cycles, b.insns - a.insns, b.low >= a.low ? b.low - a.low : 0,
            b.high >= a.high ? b.high - a.high : 0};
}

bool skipped(const CycleMark &m)
{
    return m.kind == CycleMarkKind::User || m.kind == CycleMarkKind::Unknown;
}

} // namespace

std::optional<QVector<InvokeCycles>> pairInvokes(const QVector<CycleMark> &marks, QString *error)
{
    QVector<InvokeCycles> runs;
    const CycleMark *begin = nullptr;
    for (const CycleMark &m : marks) {
        if (skipped(m))
            continue;
        const bool wantBegin = begin == nullptr;
        if (wantBegin && m.kind == CycleMarkKind::InvokeBegin) {
            begin = &m;
        } else if (!wantBegin && m.kind == CycleMarkKind::InvokeEnd) {
            runs.push_back(between(*begin, m));
            begin = nullptr;
        } else {
            if (error)
                *error = QStringLiteral("cycle side channel %1: expected %2 of an INVOKE run")
                             .arg(markText(m), wantBegin ? QStringLiteral("invoke_begin") : QStringLiteral("invoke_end"));
            return std::nullopt;
        }
    }
    if (begin) {
        if (error)
            *error = QStringLiteral("cycle side channel %1: invoke_begin without its invoke_end").arg(markText(*begin));
        return std::nullopt;
    }
    return runs;
}

std::optional<LayerRunCycles> pairLayerRuns(const QVector<CycleMark> &marks, int layers, QString *error)
{
    auto fail = [&](const QString &what) {
        if (error)
            *error = QStringLiteral("cycle side channel: %1").arg(what);
        return std::nullopt;
    };
    if (layers < 1)
        return fail(QStringLiteral("a layer profile needs at least one layer"));
    QVector<const CycleMark *> run;   // the current run's marks, invoke_begin first
    run.reserve(2 * layers + 2);
    LayerRunCycles out;
    out.layerCycles.fill(0, layers);
    out.layerInsns.fill(0, layers);
    for (const CycleMark &m : marks) {
        if (skipped(m))
            continue;
        // Position in a run: 0 invoke_begin, 1 + 2k layer_end of k, 2 + 2k layer_resume, last invoke_end.
        const int at = int(run.size());
        const CycleMarkKind want = at == 0                ? CycleMarkKind::InvokeBegin
                                   : at == 2 * layers + 1 ? CycleMarkKind::InvokeEnd
                                   : at % 2 == 1          ? CycleMarkKind::LayerEnd
                                                          : CycleMarkKind::LayerResume;
        if (m.kind != want)
            return fail(QStringLiteral("%1: expected %2 (run %3, %4 layers per run)")
                            .arg(markText(m), QLatin1String(kindName(want))).arg(out.runs + 1).arg(layers));
        run.push_back(&m);
        if (m.kind != CycleMarkKind::InvokeEnd)
            continue;
        quint64 hooks = 0, sum = 0;
        for (int k = 0; k < layers; ++k) {
            const InvokeCycles layer = between(*run[2 * k], *run[2 * k + 1]);
            hooks += run[2 * k + 2]->cycles - run[2 * k + 1]->cycles;
            sum += layer.cycles;
            if (out.runs == 0 || layer.cycles < out.layerCycles[k])
                out.layerCycles[k] = layer.cycles;
            if (out.runs == 0 || layer.insns < out.layerInsns[k])
                out.layerInsns[k] = layer.insns;
        }
        const quint64 invoke = m.cycles - run[0]->cycles;
        if (out.runs == 0 || invoke < out.invokeCycles) {
            out.invokeCycles = invoke;
            out.hookCycles = hooks;
            out.layerSumCycles = sum;
            out.tailCycles = m.cycles - run[2 * layers]->cycles;
        }
        ++out.runs;
        run.clear();
    }
    if (!run.isEmpty())
        return fail(QStringLiteral("%1: the run it begins has no invoke_end").arg(markText(*run.first())));
    if (out.runs == 0)
        return fail(QStringLiteral("no layer-profile run was marked"));
    return out;
}

QString normalizedCycleCore(const QString &core)
{
    const QString c = core.trimmed().toLower();
    if (c == QLatin1String("m4") || c == QLatin1String("cortex-m4") || c == QLatin1String("cortex-m4f"))
        return QStringLiteral("m4");
    if (c == QLatin1String("m7") || c == QLatin1String("cortex-m7") || c == QLatin1String("cortex-m7f"))
        return QStringLiteral("m7");
    return {};
}

QString cycleCoreDisplayName(const QString &core)
{
    const QString c = normalizedCycleCore(core);
    if (c == QLatin1String("m4"))
        return QStringLiteral("Cortex-M4");
    if (c == QLatin1String("m7"))
        return QStringLiteral("Cortex-M7");
    return core;
}

QString cycleModelLabel(const QString &core, int waitStates)
{
    // The M7 table is the rougher one (qemu-plugin/README.md): the label says so.
    const QString model = normalizedCycleCore(core) == QLatin1String("m7")
                              ? QStringLiteral("Cortex-M7 rough timing model")
                              : QStringLiteral("%1 timing model").arg(cycleCoreDisplayName(core));
    const QString ws = waitStates == 0 ? QStringLiteral("zero wait states")
                       : waitStates == 1 ? QStringLiteral("1 flash wait state, no prefetch or cache modelled")
                                         : QStringLiteral("%1 flash wait states, no prefetch or cache modelled").arg(waitStates);
    return QStringLiteral("estimated (%1, %2)").arg(model, ws);
}

} // namespace tinyml::deploy
