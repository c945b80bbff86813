// io/ModelInput: one model input from a raw file, a .npy array, a CSV row or a sample. Every
// file here is written byte by byte by the test, and the values expected back are the test's
// own; every refusal must name the file (and the line or field).
#include "IoTestFiles.h"

#include "io/ModelInput.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QtEndian>

#include <cmath>
#include <cstring>

using namespace tinyml;
using namespace tinyml::io;

namespace {

/// A 6-value input [1, 2, 3]: int8 with scale 0.5 and zero point -3, or float.
ModelInputSpec spec6(bool int8)
{
    ModelInputSpec s;
    s.elements = 6;
    s.shape = {1, 2, 3};
    s.int8 = int8;
    s.scale = 0.5f;
    s.zeroPoint = -3;
    return s;
}

QByteArray le32(float v)
{
    quint32 bits = 0;
    std::memcpy(&bits, &v, 4);
    QByteArray b(4, '\0');
    qToLittleEndian(bits, b.data());
    return b;
}

QByteArray be32(float v)
{
    quint32 bits = 0;
    std::memcpy(&bits, &v, 4);
    QByteArray b(4, '\0');
    qToBigEndian(bits, b.data());
    return b;
}

QByteArray le64(double v)
{
    quint64 bits = 0;
    std::memcpy(&bits, &v, 8);
    QByteArray b(8, '\0');
    qToLittleEndian(bits, b.data());
    return b;
}

QByteArray le16(qint16 v)
{
    QByteArray b(2, '\0');
    qToLittleEndian(quint16(v), b.data());
    return b;
}

/// A .npy file as NumPy writes it: magic, version, header length, the dict padded with
/// blanks to a multiple of 64 and a newline, then the data.
QByteArray npy(const QByteArray &dict, const QByteArray &data, int major = 1)
{
    const int lenBytes = major == 1 ? 2 : 4;
    QByteArray header = dict;
    while ((10 + (lenBytes - 2) + header.size() + 1) % 64 != 0)
        header += ' ';
    header += '\n';
    QByteArray out("\x93NUMPY", 6);
    out += char(major);
    out += char(0);
    QByteArray len(lenBytes, '\0');
    if (major == 1)
        qToLittleEndian(quint16(header.size()), len.data());
    else
        qToLittleEndian(quint32(header.size()), len.data());
    return out + len + header + data;
}

const QVector<float> kFloats{1.0f, -2.5f, 0.25f, 3.0f, -0.75f, 10.0f};

QByteArray floatsLe(const QVector<float> &v)
{
    QByteArray b;
    for (float f : v)
        b += le32(f);
    return b;
}

void expectError(const ImportError &e, const QString &file, const QString &field, const QString &messagePart, int line = -1)
{
    EXPECT_EQ(e.file, file) << e.toString().toStdString();
    EXPECT_EQ(e.field, field) << e.toString().toStdString();
    EXPECT_TRUE(e.message.contains(messagePart, Qt::CaseInsensitive)) << e.toString().toStdString();
    if (line >= 0) {
        EXPECT_EQ(e.line, line) << e.toString().toStdString();
    }
}

} // namespace

TEST(ModelInputRaw, Int8BytesAreTheInput)
{
    QTemporaryDir dir;
    const QByteArray bytes("\x80\xff\x00\x01\x7f\x05", 6);
    const QString path = iotest::writeFile(dir, QStringLiteral("x.bin"), bytes);
    ImportError e;
    auto in = readModelInput(path, spec6(true), ModelInputFormat::Auto, &e);
    ASSERT_TRUE(in) << e.toString().toStdString();
    EXPECT_EQ(in->format, QStringLiteral("raw int8"));
    EXPECT_EQ(in->int8, (QVector<qint8>{-128, -1, 0, 1, 127, 5}));
    EXPECT_TRUE(in->values.isEmpty());
}

TEST(ModelInputRaw, Float32IsQuantizedForAnInt8Model)
{
    QTemporaryDir dir;
    const QString path = iotest::writeFile(dir, QStringLiteral("x.f32"), floatsLe(kFloats));
    ImportError e;
    auto in = readModelInput(path, spec6(true), ModelInputFormat::Auto, &e);
    ASSERT_TRUE(in) << e.toString().toStdString();
    EXPECT_EQ(in->format, QStringLiteral("raw float32"));
    // q = round_half_away(v / 0.5) - 3, clamped: 2-3, -5-3, round(0.5)=1 -3, 6-3, round(-1.5)=-2 -3, 20-3.
    EXPECT_EQ(in->int8, (QVector<qint8>{-1, -8, -2, 3, -5, 17}));
    EXPECT_EQ(in->values, kFloats);
    EXPECT_TRUE(in->note.contains(QStringLiteral("scale 0.5 and zero point -3"))) << in->note.toStdString();

    auto f = readModelInput(path, spec6(false), ModelInputFormat::Auto, &e);
    ASSERT_TRUE(f) << e.toString().toStdString();
    EXPECT_EQ(f->values, kFloats);
    EXPECT_TRUE(f->int8.isEmpty());
}

TEST(ModelInputRaw, WrongSizesAndDtypesAreRefused)
{
    QTemporaryDir dir;
    ImportError e;
    const QString odd = iotest::writeFile(dir, QStringLiteral("odd.bin"), QByteArray(7, '\1'));
    EXPECT_FALSE(readModelInput(odd, spec6(true), ModelInputFormat::Auto, &e));
    expectError(e, odd, QStringLiteral("size"), QStringLiteral("6 bytes as int8 or 24 as float32"));
    // Forced formats check their own size.
    const QString six = iotest::writeFile(dir, QStringLiteral("six.bin"), QByteArray(6, '\1'));
    EXPECT_FALSE(readModelInput(six, spec6(true), ModelInputFormat::RawFloat32, &e));
    expectError(e, six, QStringLiteral("size"), QStringLiteral("24 bytes"));
    const QString f24 = iotest::writeFile(dir, QStringLiteral("f.bin"), floatsLe(kFloats));
    EXPECT_FALSE(readModelInput(f24, spec6(true), ModelInputFormat::RawInt8, &e));
    expectError(e, f24, QStringLiteral("size"), QStringLiteral("6 bytes"));
    // A float model has no scale for int8 data.
    EXPECT_FALSE(readModelInput(six, spec6(false), ModelInputFormat::Auto, &e));
    expectError(e, six, QStringLiteral("dtype"), QStringLiteral("float model"));
    // Non-finite floats.
    QVector<float> nan = kFloats;
    nan[4] = std::nanf("");
    const QString bad = iotest::writeFile(dir, QStringLiteral("nan.f32"), floatsLe(nan));
    EXPECT_FALSE(readModelInput(bad, spec6(false), ModelInputFormat::Auto, &e));
    expectError(e, bad, QStringLiteral("value 4"), QStringLiteral("finite"));
    // Missing files and a :ROW on something that is not a CSV row.
    const QString missing = dir.filePath(QStringLiteral("missing.bin"));
    EXPECT_FALSE(readModelInput(missing, spec6(true), ModelInputFormat::Auto, &e));
    expectError(e, missing, QString(), QStringLiteral("no such file"));
    EXPECT_FALSE(readModelInput(six + QStringLiteral(":2"), spec6(true), ModelInputFormat::RawInt8, &e));
    expectError(e, six, QStringLiteral("row"), QStringLiteral("CSV row"));
}

TEST(ModelInputNpy, EveryDtypeReadsBack)
{
    QTemporaryDir dir;
    ImportError e;
    struct Case {
        const char *name;
        QByteArray dict;
        QByteArray data;
        int major;
    };
    QByteArray f8, i2, bef4;
    const QVector<qint16> ints{-300, 2, 0, 7, -1, 32767};
    for (int i = 0; i < 6; ++i) {
        f8 += le64(double(kFloats[i]));
        i2 += le16(ints[i]);
        bef4 += be32(kFloats[i]);
    }
    const QList<Case> cases{
        {"f4.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }", floatsLe(kFloats), 1},
        {"f4v2.npy", "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", floatsLe(kFloats), 2},
        {"f4v3.npy", "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2, 3)}", floatsLe(kFloats), 3},
        {"f8.npy", "{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", f8, 1},
        {"bef4.npy", "{'descr': '>f4', 'fortran_order': False, 'shape': (6,), }", bef4, 1},
    };
    for (const Case &c : cases) {
        const QString path = iotest::writeFile(dir, QString::fromLatin1(c.name), npy(c.dict, c.data, c.major));
        auto in = readModelInput(path, spec6(false), ModelInputFormat::Auto, &e);
        ASSERT_TRUE(in) << c.name << ": " << e.toString().toStdString();
        EXPECT_EQ(in->values, kFloats) << c.name;
    }
    const QString i2path = iotest::writeFile(dir, QStringLiteral("i2.npy"),
                                             npy("{'descr': '<i2', 'fortran_order': False, 'shape': (6,), }", i2));
    auto in = readModelInput(i2path, spec6(false), ModelInputFormat::Auto, &e);
    ASSERT_TRUE(in) << e.toString().toStdString();
    EXPECT_EQ(in->values, (QVector<float>{-300, 2, 0, 7, -1, 32767}));

    const QByteArray i1("\x80\xfe\x00\x01\x7f\x05", 6);
    // Not called .npy: the magic decides.
    const QString i1path = iotest::writeFile(dir, QStringLiteral("i1.data"),
                                             npy("{'descr': '|i1', 'fortran_order': False, 'shape': (1, 6), }", i1));
    in = readModelInput(i1path, spec6(true), ModelInputFormat::Auto, &e);
    ASSERT_TRUE(in) << e.toString().toStdString();
    EXPECT_EQ(in->format, QStringLiteral("npy |i1"));
    EXPECT_EQ(in->int8, (QVector<qint8>{-128, -2, 0, 1, 127, 5}));
    EXPECT_FALSE(readModelInput(i1path, spec6(false), ModelInputFormat::Auto, &e));
    expectError(e, i1path, QStringLiteral("dtype"), QStringLiteral("float model"));
}

TEST(ModelInputNpy, BadHeadersNameFileAndField)
{
    QTemporaryDir dir;
    const QByteArray good = floatsLe(kFloats);
    struct Case {
        const char *name;
        QByteArray bytes;
        const char *field;
        const char *message;
    };
    QByteArray version4 = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", good);
    version4[6] = 4;
    QByteArray hugeLen = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", good);
    hugeLen[8] = char(0xff);
    hugeLen[9] = char(0xff);
    const QList<Case> cases{
        {"magic.npy", QByteArray("\x93NUMPZ\x01\x00\x10\x00", 10) + QByteArray(16, ' '), "magic", "NumPy"},
        {"version.npy", version4, "version", "4.0"},
        {"len.npy", hugeLen, "header_len", "the header needs"},
        {"fortran.npy", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", good), "fortran_order", "C order"},
        {"u4.npy", npy("{'descr': '<u4', 'fortran_order': False, 'shape': (6,), }", good), "descr", "<u4"},
        {"c8.npy", npy("{'descr': '<c8', 'fortran_order': False, 'shape': (3,), }", good), "descr", "<c8"},
        {"struct.npy", npy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (6,), }", good), "descr", "structured"},
        {"noshape.npy", npy("{'descr': '<f4', 'fortran_order': False}", good), "shape", "missing"},
        {"badshape.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }", good), "shape", "integer"},
        {"extra.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), 'x': 1}", good), "header", "unknown key"},
        {"short.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", good.left(20)), "data", "needs 24"},
        {"long.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", good + "x"), "data", "needs 24"},
        {"notdict.npy", npy("descr", good), "header", "dict"},
        {"overflow.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100000, 100000, 100000), }", good), "shape", "more than"},
    };
    for (const Case &c : cases) {
        const QString path = iotest::writeFile(dir, QString::fromLatin1(c.name), c.bytes);
        ImportError e;
        EXPECT_FALSE(readModelInput(path, spec6(false), ModelInputFormat::Auto, &e)) << c.name;
        expectError(e, path, QString::fromLatin1(c.field), QString::fromLatin1(c.message));
    }
    // A well-formed array of the wrong size for the model.
    const QString wrong = iotest::writeFile(dir, QStringLiteral("wrong.npy"),
                                            npy("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }", good.left(20)));
    ImportError e;
    EXPECT_FALSE(readModelInput(wrong, spec6(false), ModelInputFormat::Auto, &e));
    expectError(e, wrong, QStringLiteral("shape"), QStringLiteral("(5) holds 5 values"));

    // Every truncation of a valid file is refused (never read past the end), naming the file.
    const QByteArray full = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }", good);
    for (int n = 0; n < full.size(); ++n) {
        ImportError te;
        EXPECT_FALSE(parseNpyHeader(full.left(n), QStringLiteral("t.npy"), &te)) << n;
        EXPECT_EQ(te.file, QStringLiteral("t.npy"));
        EXPECT_FALSE(te.field.isEmpty()) << n;
    }
    EXPECT_TRUE(parseNpyHeader(full, QStringLiteral("t.npy"), &e)) << e.toString().toStdString();
}

TEST(ModelInputCsvRow, HeaderLabelAndRowChoice)
{
    QTemporaryDir dir;
    const QString path = iotest::writeFile(dir, QStringLiteral("rows.csv"),
                                           "a,b,label,c,d,e,f\n"
                                           "1,-2.5,walk,0.25,3,-0.75,10\r\n"
                                           "\n"
                                           "6,5,run,4,3,2,1\n");
    ImportError e;
    auto in = readModelInput(path, spec6(false), ModelInputFormat::Auto, &e);
    ASSERT_TRUE(in) << e.toString().toStdString();
    EXPECT_EQ(in->format, QStringLiteral("csv row 1"));
    EXPECT_EQ(in->values, kFloats);
    EXPECT_EQ(in->expectedLabel, QStringLiteral("walk"));
    in = readModelInput(path + QStringLiteral(":2"), spec6(true), ModelInputFormat::Auto, &e);
    ASSERT_TRUE(in) << e.toString().toStdString();
    EXPECT_EQ(in->values, (QVector<float>{6, 5, 4, 3, 2, 1}));
    EXPECT_EQ(in->int8, (QVector<qint8>{9, 7, 5, 3, 1, -1}));
    EXPECT_EQ(in->expectedLabel, QStringLiteral("run"));
    EXPECT_EQ(in->note.contains(QStringLiteral("line 4")), true) << in->note.toStdString();

    auto row = parseCsvRow("1;2;3\n4;5;6\n", QStringLiteral("n.csv"), 2, &e);
    ASSERT_TRUE(row) << e.toString().toStdString();
    EXPECT_TRUE(row->columns.isEmpty());
    EXPECT_EQ(row->values, (QVector<float>{4, 5, 6}));
    EXPECT_EQ(row->line, 2);
}

TEST(ModelInputCsvRow, BadRowsNameLineAndColumn)
{
    QTemporaryDir dir;
    const QString path = iotest::writeFile(dir, QStringLiteral("bad.csv"),
                                           "a,b,c,d,e,f\n"
                                           "1,2,3,4,5,6\n"
                                           "1,2,x,4,5,6\n"
                                           "1,2,,4,5,6\n"
                                           "1,2,3\n"
                                           "1,2,3,4,5,inf\n");
    ImportError e;
    EXPECT_FALSE(readModelInput(path + QStringLiteral(":2"), spec6(false), ModelInputFormat::Auto, &e));
    expectError(e, path, QStringLiteral("c"), QStringLiteral("'x' is not a number"), 3);
    EXPECT_FALSE(readModelInput(path + QStringLiteral(":3"), spec6(false), ModelInputFormat::Auto, &e));
    expectError(e, path, QStringLiteral("c"), QStringLiteral("empty cell"), 4);
    EXPECT_FALSE(readModelInput(path + QStringLiteral(":4"), spec6(false), ModelInputFormat::Auto, &e));
    expectError(e, path, QString(), QStringLiteral("3 cells, but the header has 6"), 5);
    EXPECT_FALSE(readModelInput(path + QStringLiteral(":5"), spec6(false), ModelInputFormat::Auto, &e));
    expectError(e, path, QStringLiteral("f"), QStringLiteral("finite"), 6);
    EXPECT_FALSE(readModelInput(path + QStringLiteral(":9"), spec6(false), ModelInputFormat::Auto, &e));
    expectError(e, path, QStringLiteral("row"), QStringLiteral("row 9 asked, but the file has 5 data rows"));
    const QString five = iotest::writeFile(dir, QStringLiteral("five.csv"), "1,2,3,4,5\n");
    EXPECT_FALSE(readModelInput(five, spec6(false), ModelInputFormat::Auto, &e));
    expectError(e, five, QString(), QStringLiteral("5 numbers, but the model takes 6"), 1);
    const QString empty = iotest::writeFile(dir, QStringLiteral("empty.csv"), "a,b,c\n");
    EXPECT_FALSE(readModelInput(empty, spec6(false), ModelInputFormat::Auto, &e));
    expectError(e, empty, QStringLiteral("row"), QStringLiteral("no data rows"));
}

TEST(ModelInputSample, TimeSeriesCsvGoesThroughTheBlockAndNormalisation)
{
    QTemporaryDir dir;
    // 3 frames x 2 channels at 100 Hz; the raw block flattens them frame by frame.
    const QString path = iotest::writeFile(dir, QStringLiteral("walk.1.csv"),
                                           "timestamp,x,y\n0,1,-2.5\n10,0.25,3\n20,-0.75,10\n");
    ModelInputSpec s = spec6(true);
    s.features.kind = features::BlockKind::Raw;
    s.normMean = {1, 1, 1, 1, 1, 1};
    s.normStd = {2, 2, 2, 2, 2, 2};
    ImportError e;
    auto in = readModelInput(path, s, ModelInputFormat::Auto, &e);
    ASSERT_TRUE(in) << e.toString().toStdString();
    EXPECT_EQ(in->format, QStringLiteral("csv-timeseries sample"));
    EXPECT_EQ(in->expectedLabel, QStringLiteral("walk"));
    QVector<float> expected;
    for (float v : kFloats)
        expected << (v - 1.0f) / 2.0f;
    EXPECT_EQ(in->values, expected);
    EXPECT_TRUE(in->note.contains(QStringLiteral("normalised"))) << in->note.toStdString();

    // The project's expectation is checked first (3 channels wanted).
    s.expectation.templateName = QStringLiteral("motion");
    s.expectation.channels = 3;
    EXPECT_FALSE(readModelInput(path, s, ModelInputFormat::Auto, &e));
    EXPECT_EQ(e.file, path);
    EXPECT_EQ(e.field, QStringLiteral("channels")) << e.toString().toStdString();

    // A sample whose features do not fit the model.
    s.expectation = {};
    s.elements = 8;
    s.normMean.clear();
    s.normStd.clear();
    EXPECT_FALSE(readModelInput(path, s, ModelInputFormat::Auto, &e));
    expectError(e, path, QStringLiteral("features"), QStringLiteral("gives 6 values"));
}

TEST(ModelInputSample, WavIsReadThroughTheImporter)
{
    QTemporaryDir dir;
    const QVector<qint16> pcm{16384, -32768, 8192, 0, -16384, 32767};
    QByteArray data;
    for (qint16 v : pcm)
        data += le16(v);
    auto u32 = [](quint32 v) {
        QByteArray b(4, '\0');
        qToLittleEndian(v, b.data());
        return b;
    };
    QByteArray wav = "RIFF" + u32(36 + data.size()) + "WAVEfmt " + u32(16) + le16(1) + le16(1) + u32(16000) +
                     u32(32000) + le16(2) + le16(16) + "data" + u32(data.size()) + data;
    // No extension: the RIFF signature decides; no label in the name: none expected.
    const QString path = iotest::writeFile(dir, QStringLiteral("clip"), wav);
    ModelInputSpec s = spec6(false);
    s.features.kind = features::BlockKind::Raw;
    ImportError e;
    auto in = readModelInput(path, s, ModelInputFormat::Auto, &e);
    ASSERT_TRUE(in) << e.toString().toStdString();
    EXPECT_EQ(in->format, QStringLiteral("wav sample"));
    EXPECT_TRUE(in->expectedLabel.isEmpty());
    QVector<float> expected;
    for (qint16 v : pcm)
        expected << float(v) / 32768.0f;
    EXPECT_EQ(in->values, expected);
}

TEST(ModelInputSpec, FromAnInt8Graph)
{
    model::Graph g;
    model::TensorDesc x = model::TensorDesc::activation(QStringLiteral("x"), {1, 6}, DType::Int8);
    x.scales = {0.25f};
    x.zeroPoints = {7};
    g.inputs = {g.addTensor(x)};
    g.quantized = true;
    g.meta.insert(QStringLiteral("input_normalization"),
                  QJsonObject{{QStringLiteral("mean"), QJsonArray{0, 1, 2, 3, 4, 5}},
                              {QStringLiteral("std"), QJsonArray{1, 1, 1, 1, 1, 2}}});
    ProjectSettings settings;
    settings.templateName = QStringLiteral("tabular");
    QString error;
    auto s = ModelInputSpec::forGraph(g, settings, &error);
    ASSERT_TRUE(s) << error.toStdString();
    EXPECT_EQ(s->elements, 6);
    EXPECT_TRUE(s->int8);
    EXPECT_EQ(s->scale, 0.25f);
    EXPECT_EQ(s->zeroPoint, 7);
    EXPECT_EQ(s->normStd.value(5), 2.0f);
    g.meta.insert(QStringLiteral("input_normalization"),
                  QJsonObject{{QStringLiteral("mean"), QJsonArray{0}}, {QStringLiteral("std"), QJsonArray{1}}});
    EXPECT_FALSE(ModelInputSpec::forGraph(g, settings, &error));
    EXPECT_TRUE(error.contains(QStringLiteral("input_normalization"))) << error.toStdString();
}
