#include "RuntimeSize.h"

#include "device/BoardRegistry.h"
#include "device/VirtualBoard.h"

#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QHash>
#include <QMutex>

#include <cstring>

namespace tinyml::deploy {

namespace {

constexpr quint32 kShtSymtab = 2;
constexpr quint64 kShfWrite = 0x1;
constexpr quint64 kShfAlloc = 0x2;
constexpr int kSttObject = 1;
constexpr int kSttFunc = 2;
constexpr int kSttFile = 4;
constexpr quint16 kShnLoreserve = 0xFF00;

/// Little-endian reads that fail (ok = false) instead of reading past the end.
class Bytes
{
public:
    explicit Bytes(const QByteArray &b) : m_b(b) {}
    bool ok() const { return m_ok; }
    quint64 get(quint64 at, int width)
    {
        if (!m_ok || at > quint64(m_b.size()) || quint64(m_b.size()) - at < quint64(width)) {
            m_ok = false;
            return 0;
        }
        quint64 v = 0;
        for (int i = width - 1; i >= 0; --i)
            v = (v << 8) | quint8(m_b[qsizetype(at + i)]);
        return v;
    }
    /// NUL-terminated string at `at`, at most 255 bytes; empty (and not ok) past the end.
    QByteArray cstr(quint64 at, quint64 limit)
    {
        if (!m_ok || at >= limit || limit > quint64(m_b.size())) {
            m_ok = false;
            return {};
        }
        const char *p = m_b.constData() + at;
        const quint64 max = qMin<quint64>(limit - at, 255);
        const void *nul = std::memchr(p, 0, size_t(max));
        return QByteArray(p, nul ? qsizetype(static_cast<const char *>(nul) - p) : qsizetype(max));
    }

private:
    const QByteArray &m_b;
    bool m_ok = true;
};

struct Section {
    quint32 type = 0;
    quint64 flags = 0, offset = 0, size = 0, entsize = 0;
    quint32 link = 0, info = 0;
};

bool runtimeFile(const QByteArray &file)
{
    return file.startsWith("tm_model") || file.startsWith("tm_nn");
}

bool runtimeName(const QByteArray &name)
{
    return name.startsWith("tm_model_") || name.startsWith("tm_nn_");
}

} // namespace

std::optional<RuntimeSize> runtimeSizeFromElf(const QByteArray &elf, QString *error)
{
    auto fail = [&](const QString &why) -> std::optional<RuntimeSize> {
        if (error)
            *error = QStringLiteral("ELF image: %1").arg(why);
        return std::nullopt;
    };
    if (elf.size() < 16 || !elf.startsWith("\x7f" "ELF"))
        return fail(QStringLiteral("no ELF magic"));
    const int cls = quint8(elf[4]);
    if (cls != 1 && cls != 2)
        return fail(QStringLiteral("e_ident class %1 is neither ELF32 nor ELF64").arg(cls));
    if (quint8(elf[5]) != 1)
        return fail(QStringLiteral("e_ident data: only little-endian images are read"));
    const bool is64 = cls == 2;
    const int word = is64 ? 8 : 4;
    Bytes b(elf);
    const quint64 shoff = b.get(is64 ? 0x28 : 0x20, word);
    const quint64 shentsize = b.get(is64 ? 0x3A : 0x2E, 2);
    const quint64 shnum = b.get(is64 ? 0x3C : 0x30, 2);
    if (!b.ok())
        return fail(QStringLiteral("header truncated"));
    const quint64 minEnt = is64 ? 64 : 40;
    if (shnum == 0 || shentsize < minEnt)
        return fail(QStringLiteral("e_shnum %1 / e_shentsize %2: no usable section headers").arg(shnum).arg(shentsize));
    if (shoff > quint64(elf.size()) || (quint64(elf.size()) - shoff) / shentsize < shnum)
        return fail(QStringLiteral("section headers (e_shoff %1, %2 x %3 bytes) run past the end of %4 bytes")
                        .arg(shoff).arg(shnum).arg(shentsize).arg(elf.size()));
    QVector<Section> sections(static_cast<int>(shnum));
    for (quint64 i = 0; i < shnum; ++i) {
        const quint64 at = shoff + i * shentsize;
        Section &s = sections[int(i)];
        s.type = quint32(b.get(at + 4, 4));
        s.flags = b.get(at + 8, word);
        s.offset = b.get(at + (is64 ? 24 : 16), word);
        s.size = b.get(at + (is64 ? 32 : 20), word);
        s.link = quint32(b.get(at + (is64 ? 40 : 24), 4));
        s.info = quint32(b.get(at + (is64 ? 44 : 28), 4));
        s.entsize = b.get(at + (is64 ? 56 : 36), word);
    }
    if (!b.ok())
        return fail(QStringLiteral("section header truncated"));
    int symtab = -1;
    for (int i = 0; i < sections.size(); ++i)
        if (sections[i].type == kShtSymtab)
            symtab = i;
    if (symtab < 0)
        return fail(QStringLiteral("no symbol table (the image was stripped)"));
    const Section &st = sections[symtab];
    const quint64 symSize = is64 ? 24 : 16;
    if (st.entsize != symSize)
        return fail(QStringLiteral(".symtab sh_entsize %1, expected %2").arg(st.entsize).arg(symSize));
    if (st.offset > quint64(elf.size()) || quint64(elf.size()) - st.offset < st.size)
        return fail(QStringLiteral(".symtab (offset %1, %2 bytes) runs past the end").arg(st.offset).arg(st.size));
    if (st.link >= quint32(sections.size()))
        return fail(QStringLiteral(".symtab sh_link %1 names no section").arg(st.link));
    const Section &str = sections[int(st.link)];
    if (str.offset > quint64(elf.size()) || quint64(elf.size()) - str.offset < str.size)
        return fail(QStringLiteral("string table (offset %1, %2 bytes) runs past the end").arg(str.offset).arg(str.size));

    RuntimeSize out;
    QByteArray file;
    const quint64 count = st.size / symSize;
    for (quint64 i = 1; i < count; ++i) {
        const quint64 at = st.offset + i * symSize;
        const quint64 nameOff = b.get(at, 4);
        const int infoByte = int(b.get(at + (is64 ? 4 : 12), 1));
        const quint64 shndx = b.get(at + (is64 ? 6 : 14), 2);
        const quint64 size = b.get(at + (is64 ? 16 : 8), word);
        if (!b.ok())
            return fail(QStringLiteral("symbol %1 truncated").arg(i));
        const int type = infoByte & 0xF;
        const bool local = i < st.info;
        QByteArray name;
        if (nameOff > 0 && nameOff < str.size)
            name = b.cstr(str.offset + nameOff, str.offset + str.size);
        if (!b.ok())
            return fail(QStringLiteral("symbol %1: name offset %2 outside the string table").arg(i).arg(nameOff));
        if (type == kSttFile) {
            file = name;
            continue;
        }
        if ((type != kSttFunc && type != kSttObject) || size == 0 || shndx == 0 || shndx >= kShnLoreserve
            || shndx >= quint64(sections.size()))
            continue;
        const quint64 flags = sections[int(shndx)].flags;
        if (!(flags & kShfAlloc) || (flags & kShfWrite))
            continue;   // RAM-resident data is not flash
        if (local ? runtimeFile(file) : runtimeName(name)) {
            out.bytes += qint64(qMin<quint64>(size, quint64(elf.size())));
            ++out.symbols;
        }
    }
    return out;
}

namespace {

/// One image's measurement, valid while the file keeps its modification time and size.
struct CachedMeasurement {
    QDateTime modified;
    qint64 fileSize = -1;
    std::optional<RuntimeSize> size;
    QString error;
};

/// Reads and measures the image at `path`, or returns the measurement made when the file
/// last had this modification time and size: every profile asks, the image rarely changes,
/// and reading a debug ELF costs megabytes.
std::optional<RuntimeSize> measureImage(const QString &path, QString *error)
{
    static QMutex mutex;
    static QHash<QString, CachedMeasurement> cache;
    const QFileInfo info(path);
    const QDateTime modified = info.lastModified();
    const qint64 fileSize = info.size();
    {
        QMutexLocker lock(&mutex);
        const auto it = cache.constFind(path);
        if (it != cache.constEnd() && it->modified == modified && it->fileSize == fileSize) {
            *error = it->error;
            return it->size;
        }
    }
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        // Not cached: the file may become readable.
        *error = QStringLiteral("cannot read %1: %2").arg(path, f.errorString());
        return std::nullopt;
    }
    CachedMeasurement m;
    m.modified = modified;
    m.fileSize = fileSize;
    m.size = runtimeSizeFromElf(f.readAll(), &m.error);
    if (m.size)
        m.error.clear();
    else
        m.error = QStringLiteral("%1: %2").arg(path, m.error);
    QMutexLocker lock(&mutex);
    cache.insert(path, m);
    *error = m.error;
    return m.size;
}

} // namespace

RuntimeSize runtimeSizeFor(const BoardDefinition &board)
{
    RuntimeSize none;
    QString path, error;
    if (!board.agentImage.isEmpty())
        path = AgentLocator::findImage(board.agentImage, &error);
    else if (!board.agentExecutable.isEmpty())
        path = AgentLocator::findHostAgent(board.agentExecutable, &error);
    if (path.isEmpty()) {
        none.source = board.agentImage.isEmpty() && board.agentExecutable.isEmpty()
                          ? QStringLiteral("not measured: no local agent image for %1 (flash = package only)").arg(board.id)
                          : QStringLiteral("not measured: %1 (flash = package only)").arg(error);
        return none;
    }
    auto size = measureImage(path, &error);
    if (!size) {
        none.source = QStringLiteral("not measured: %1 (flash = package only)").arg(error);
        return none;
    }
    size->source = QStringLiteral("%1 symbols of the interpreter and kernels (tm_model*, tm_nn*) in %2")
                       .arg(size->symbols).arg(QFileInfo(path).fileName() == QLatin1String("tinyml-agent.elf")
                                                   ? board.agentImage
                                                   : QFileInfo(path).fileName());
    return *size;
}

} // namespace tinyml::deploy
