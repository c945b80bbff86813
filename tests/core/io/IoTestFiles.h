#pragma once
// Small helpers shared by the io tests: write files into a temporary folder and check
// that a failed import names the file, the line/field, and imports nothing.

#include <gtest/gtest.h>

#include "io/ImportResult.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>

#include <cstring>

namespace iotest {

inline QString writeFile(const QTemporaryDir &dir, const QString &name, const QByteArray &bytes)
{
    const QString path = dir.filePath(name);
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size())
        ADD_FAILURE() << "cannot write " << path.toStdString();
    return path;
}

/// line < 0: do not check the line.
inline void expectFailure(const tinyml::io::FileImportResult &r, const QString &file, int line,
                          const QString &fieldPart, const QString &messagePart)
{
    ASSERT_TRUE(r.error.has_value()) << "expected a failure for " << file.toStdString();
    EXPECT_TRUE(r.samples.isEmpty());
    EXPECT_EQ(r.error->file, file);
    if (line >= 0) {
        EXPECT_EQ(r.error->line, line) << r.error->toString().toStdString();
    }
    EXPECT_TRUE(r.error->field.contains(fieldPart, Qt::CaseInsensitive))
        << "field '" << r.error->field.toStdString() << "' lacks '" << fieldPart.toStdString() << "'";
    EXPECT_TRUE(r.error->message.contains(messagePart, Qt::CaseInsensitive))
        << "message '" << r.error->message.toStdString() << "' lacks '" << messagePart.toStdString() << "'";
    EXPECT_TRUE(r.error->toString().startsWith(file + QLatin1Char(':')));
}

inline bool sameBits(const QVector<float> &a, const QVector<float> &b)
{
    return a.size() == b.size() &&
           std::memcmp(a.constData(), b.constData(), size_t(a.size()) * sizeof(float)) == 0;
}

} // namespace iotest
