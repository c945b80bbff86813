#include "IoTestFiles.h"

#include "io/DatasetImporter.h"
#include "io/EdgeImpulseCodec.h"

#include <QCborMap>
#include <QCborValue>
#include <QMessageAuthenticationCode>

using namespace tinyml;
using namespace tinyml::io;
using iotest::expectFailure;
using iotest::writeFile;

namespace {

const QByteArray kKey = "fed53116f20684c067774ebf9e7bcbdc";
const QByteArray kZeros(64, '0');

// The documented example, laid out the way Python's json.dumps writes it (", " and ": ").
QByteArray exampleJson(const QByteArray &signature, const QByteArray &alg = "HS256")
{
    return "{\"protected\": {\"ver\": \"v1\", \"alg\": \"" + alg +
           "\", \"iat\": 1564128599}, \"signature\": \"" + signature +
           "\", \"payload\": {\"device_name\": \"ac:87:a3:0a:2d:1b\", \"device_type\": "
           "\"DISCO-L475VG-IOT01A\", \"interval_ms\": 10, \"sensors\": [{\"name\": \"accX\", \"units\": "
           "\"m/s2\"}, {\"name\": \"accY\", \"units\": \"m/s2\"}, {\"name\": \"accZ\", \"units\": \"m/s2\"}], "
           "\"values\": [[-9.81, 0.03, 1.21], [-9.83, 0.04, 1.27], [-9.12, 0.03, 1.23], [-9.14, 0.01, 1.25]]}}";
}

// Signed as Edge Impulse's examples do: HMAC-SHA256 over the message holding 64 '0's.
QByteArray signedExampleJson()
{
    const QByteArray sig =
        QMessageAuthenticationCode::hash(exampleJson(kZeros), kKey, QCryptographicHash::Sha256).toHex();
    return exampleJson(sig);
}

} // namespace

TEST(EdgeImpulse, DocumentedJsonExampleImports)
{
    QTemporaryDir dir;
    const QString path = writeFile(dir, "updown.s1.json", exampleJson(kZeros, "none"));
    const FileImportResult r = importFile(path, {});
    ASSERT_TRUE(r.ok()) << r.error->toString().toStdString();
    EXPECT_EQ(r.format, "ei-json");
    const Sample &s = r.samples[0];
    EXPECT_EQ(s.label, "updown");
    EXPECT_EQ(s.device, "DISCO-L475VG-IOT01A");
    EXPECT_DOUBLE_EQ(s.sampleRateHz, 100.0);
    EXPECT_EQ(s.channels, (QStringList{"accX", "accY", "accZ"}));
    EXPECT_EQ(s.units, (QStringList{"m/s2", "m/s2", "m/s2"}));
    EXPECT_EQ(s.data.shape, (QVector<qint64>{4, 3}));
    EXPECT_EQ(s.data.toFloats()[0], -9.81f);
    EXPECT_EQ(s.data.toFloats()[11], 1.25f);
}

TEST(EdgeImpulse, IndependentlyComputedHs256Verifies)
{
    ImportOptions opt;
    opt.hmacKey = kKey;
    const FileImportResult ok = parseEdgeImpulseJson(signedExampleJson(), "updown.s1.json", opt);
    ASSERT_TRUE(ok.ok()) << ok.error->toString().toStdString();

    QByteArray tampered = signedExampleJson();
    tampered.replace("-9.83", "-9.84");
    expectFailure(parseEdgeImpulseJson(tampered, "updown.s1.json", opt), "updown.s1.json", 0, "signature",
                  "does not match");

    opt.hmacKey = "another key";
    expectFailure(parseEdgeImpulseJson(signedExampleJson(), "updown.s1.json", opt), "updown.s1.json", 0,
                  "signature", "does not match");

    // Without a key the signature cannot be checked and the file imports.
    EXPECT_TRUE(parseEdgeImpulseJson(tampered, "updown.s1.json", {}).ok());
}

TEST(EdgeImpulse, CborSignedByExporterVerifiesIndependently)
{
    Sample s;
    s.label = "idle";
    s.sampleRateHz = 50;
    s.channels = {"x", "y"};
    s.data = Tensor::fromFloats({1.f, 2.f, 3.f, 4.f, 5.f, 6.f}, {3, 2});
    QString error;
    const QByteArray cbor = encodeEdgeImpulse(s, EdgeImpulseEncoding::Cbor, kKey, &error);
    ASSERT_FALSE(cbor.isEmpty()) << error.toStdString();

    const QCborMap top = QCborValue::fromCbor(cbor).toMap();
    EXPECT_EQ(top.value(QStringLiteral("protected")).toMap().value(QStringLiteral("alg")).toString(), "HS256");
    const QByteArray sig = top.value(QStringLiteral("signature")).toString().toLatin1();
    ASSERT_EQ(sig.size(), 64);
    QByteArray message = cbor;
    message.replace(message.indexOf(sig), 64, kZeros);
    EXPECT_EQ(QMessageAuthenticationCode::hash(message, kKey, QCryptographicHash::Sha256).toHex(), sig);

    ImportOptions opt;
    opt.hmacKey = kKey;
    const FileImportResult r = parseEdgeImpulseCbor(cbor, "idle.1.cbor", opt);
    ASSERT_TRUE(r.ok()) << r.error->toString().toStdString();
    EXPECT_EQ(r.samples[0].data.toFloats(), s.data.toFloats());

    QByteArray tampered = cbor;
    const qsizetype at = tampered.indexOf(QByteArray("\xFA\x40\x40\x00\x00", 5)); // float32 3.0
    ASSERT_GE(at, 0);
    tampered[at + 1] = '\x41';
    expectFailure(parseEdgeImpulseCbor(tampered, "idle.1.cbor", opt), "idle.1.cbor", 0, "signature", "does not match");
}

TEST(EdgeImpulse, FlatValuesForOneSensorAndUnsignedExport)
{
    const QByteArray json = "{\"protected\":{\"ver\":\"v1\",\"alg\":\"none\"},\"signature\":\"0\","
                            "\"payload\":{\"device_type\":\"X\",\"interval_ms\":0.0625,"
                            "\"sensors\":[{\"name\":\"audio\",\"units\":\"wav\"}],\"values\":[1,-2,3]}}";
    const FileImportResult r = parseEdgeImpulseJson(json, "noise.1.json", {});
    ASSERT_TRUE(r.ok()) << r.error->toString().toStdString();
    EXPECT_DOUBLE_EQ(r.samples[0].sampleRateHz, 16000.0);
    EXPECT_EQ(r.samples[0].data.shape, (QVector<qint64>{3, 1}));

    QString error;
    const QByteArray out = encodeEdgeImpulse(r.samples[0], EdgeImpulseEncoding::Json, {}, &error);
    EXPECT_TRUE(out.contains("\"alg\":\"none\""));
    EXPECT_TRUE(out.contains("\"signature\":\"" + kZeros + "\""));
}

TEST(EdgeImpulseBad, InvalidJsonNamesOffsetAndLine)
{
    QTemporaryDir dir;
    const QString path = writeFile(dir, "idle.1.json", "{\n\"protected\": {\"ver\": \"v1\",,}\n}");
    const FileImportResult r = importFile(path, {});
    expectFailure(r, path, 2, "", "invalid JSON at offset");
}

TEST(EdgeImpulseBad, MissingPayloadValues)
{
    QByteArray json = exampleJson(kZeros, "none");
    json.replace("\"values\"", "\"valuez\"");
    expectFailure(parseEdgeImpulseJson(json, "idle.1.json", {}), "idle.1.json", 0, "payload.values", "missing");
}

TEST(EdgeImpulseBad, RowLengthDiffersFromSensors)
{
    QByteArray json = exampleJson(kZeros, "none");
    json.replace("[-9.12, 0.03, 1.23]", "[-9.12, 0.03]");
    expectFailure(parseEdgeImpulseJson(json, "idle.1.json", {}), "idle.1.json", 0, "payload.values[2]",
                  "2 values, but 3 sensors");
}

TEST(EdgeImpulseBad, NonNumericValueAndBadInterval)
{
    QByteArray json = exampleJson(kZeros, "none");
    json.replace("0.04", "\"x\"");
    expectFailure(parseEdgeImpulseJson(json, "idle.1.json", {}), "idle.1.json", 0, "payload.values[1][1]",
                  "not a number");
    json = exampleJson(kZeros, "none");
    json.replace("\"interval_ms\": 10", "\"interval_ms\": 0");
    expectFailure(parseEdgeImpulseJson(json, "idle.1.json", {}), "idle.1.json", 0, "payload.interval_ms",
                  "positive");
    json = exampleJson(kZeros, "none");
    json.replace("-9.81", "1e300");
    expectFailure(parseEdgeImpulseJson(json, "idle.1.json", {}), "idle.1.json", 0, "payload.values[0][0]",
                  "float32 range");
}

TEST(EdgeImpulseBad, UnsignedFileWhenKeyGivenAndBadAlg)
{
    ImportOptions opt;
    opt.hmacKey = kKey;
    expectFailure(parseEdgeImpulseJson(exampleJson(kZeros, "none"), "idle.1.json", opt), "idle.1.json", 0,
                  "protected.alg", "not signed");
    expectFailure(parseEdgeImpulseJson(exampleJson(kZeros, "RS256"), "idle.1.json", {}), "idle.1.json", 0,
                  "protected.alg", "HS256");
}

TEST(EdgeImpulseBad, CborGarbageAndTrailingBytes)
{
    QTemporaryDir dir;
    const QString path = writeFile(dir, "idle.1.cbor", QByteArray("\xA3\x61\x70\xFF\x00\x13", 6));
    expectFailure(importFile(path, {}), path, 0, "", "invalid CBOR at offset");

    Sample s;
    s.label = "x";
    s.sampleRateHz = 10;
    s.channels = {"a"};
    s.data = Tensor::fromFloats({1.f}, {1, 1});
    QString error;
    const QByteArray good = encodeEdgeImpulse(s, EdgeImpulseEncoding::Cbor, {}, &error);
    expectFailure(parseEdgeImpulseCbor(good + "\x01", "idle.1.cbor", {}), "idle.1.cbor", 0, "", "trailing");
    expectFailure(parseEdgeImpulseCbor(QCborValue(42).toCbor(), "idle.1.cbor", {}), "idle.1.cbor", 0, "",
                  "not an object");
}

TEST(EdgeImpulse, FixtureFromTheSpecificationImports)
{
    const QString path = QStringLiteral(TINYML_FIXTURES_DIR "/updown.ei-example.json");
    const FileImportResult r = importFile(path, {});
    ASSERT_TRUE(r.ok()) << r.error->toString().toStdString();
    EXPECT_EQ(r.samples[0].label, "updown");
    EXPECT_EQ(r.samples[0].data.shape, (QVector<qint64>{4, 3}));
    EXPECT_EQ(r.samples[0].data.toFloats()[4], 0.04f);
}
