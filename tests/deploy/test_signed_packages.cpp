// The signed packages beside a project (deploy/SignedPackages.h): which files count, in which
// order, and what goes to a board for a model package — the choice `tinyml flash`, `profile`,
// `classify` and the Deployment page share through Flasher::flash.
#include <gtest/gtest.h>

#include "DeployTestGraphs.h"

#include "ModelPackageWriter.h"
#include "SignedPackages.h"
#include "crypto/SignedPackage.h"
#include "crypto/SigningKeyStore.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>

using namespace tinyml;
using namespace tinyml::deploy;

namespace {

QByteArray packageOf(const model::Graph &g)
{
    ModelPackageWriter writer;
    QString error;
    auto bytes = writer.write(g, &error);
    EXPECT_TRUE(bytes) << error.toStdString();
    return bytes.value_or(QByteArray());
}

void write(const QString &path, const QByteArray &bytes)
{
    QFile f(path);
    ASSERT_TRUE(f.open(QIODevice::WriteOnly)) << path.toStdString();
    f.write(bytes);
}

class SignedPackagesTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        ASSERT_TRUE(tmp.isValid());
        QString error;
        keys = std::make_unique<crypto::SigningKeyStore>(tmp.filePath(QStringLiteral("keys")));
        auto key = keys->create(QStringLiteral("test"), &error);
        ASSERT_TRUE(key) << error.toStdString();
        keyId = key->id;
        project = tmp.filePath(QStringLiteral("p.tinyml"));
        folder = signedPackagesFolder(project);
        ASSERT_TRUE(QDir().mkpath(folder));
        chain = packageOf(tinyml::deploy::testing::chain());
        branch = packageOf(tinyml::deploy::testing::branch());
    }
    QByteArray sign(const QByteArray &package, quint32 version)
    {
        QString error;
        auto bytes = crypto::signPackage(package, version, keyId, *keys, &error);
        EXPECT_TRUE(bytes) << error.toStdString();
        return bytes.value_or(QByteArray());
    }

    QTemporaryDir tmp;
    std::unique_ptr<crypto::SigningKeyStore> keys;
    QString keyId, project, folder;
    QByteArray chain, branch;
};

} // namespace

TEST_F(SignedPackagesTest, NewestFirstAndMalformedFilesPassedOver)
{
    EXPECT_EQ(folder, QDir(tmp.path()).filePath(QStringLiteral("signed")));
    write(QDir(folder).filePath("a-v2.tmpks"), sign(chain, 2));
    write(QDir(folder).filePath("b-v5.tmpks"), sign(chain, 5));
    write(QDir(folder).filePath("c-v3.tmpks"), sign(branch, 3));
    write(QDir(folder).filePath("bare.tmpks"), chain);                  // not signed
    write(QDir(folder).filePath("cut.tmpks"), sign(chain, 9).chopped(1)); // block cut short
    write(QDir(folder).filePath("other-v7.bin"), sign(chain, 7));       // not *.tmpks

    const auto found = readSignedPackages(folder);
    ASSERT_EQ(found.size(), 3);
    EXPECT_EQ(found[0].version, 5u);
    EXPECT_EQ(found[1].version, 3u);
    EXPECT_EQ(found[2].version, 2u);
    EXPECT_TRUE(found[0].path.endsWith(QStringLiteral("b-v5.tmpks")));
    EXPECT_EQ(found[0].keyId, keyId);
    EXPECT_TRUE(found[0].bytes.startsWith(chain));

    const QVector<QByteArray> beside = signedPackagesBeside(project);
    ASSERT_EQ(beside.size(), 3);
    EXPECT_EQ(beside[0], found[0].bytes);
    // the newest of the chain's; the branch's package (version 3) is not the chain's
    EXPECT_EQ(signedPackageOf(chain, beside), found[0].bytes);
    EXPECT_EQ(signedPackageOf(branch, beside), found[1].bytes);
    EXPECT_FALSE(signedPackageOf(packageOf(tinyml::deploy::testing::dsCnnKeyword()), beside));
    EXPECT_TRUE(readSignedPackages(tmp.filePath(QStringLiteral("missing"))).isEmpty());
}

TEST_F(SignedPackagesTest, ChooseUploadSignedBareOrRefusedBeforeSending)
{
    const QByteArray signedChain = sign(chain, 4);
    SignedUpload upload;
    upload.packages = {sign(branch, 6), signedChain};
    upload.modelId = 7;
    upload.command = QStringLiteral("flash");
    QString error;

    // a match goes on, provisioned or not
    EXPECT_EQ(chooseUpload(chain, upload, true, QStringLiteral("host"), &error), signedChain);
    EXPECT_EQ(chooseUpload(chain, upload, false, QStringLiteral("host"), &error), signedChain);

    // none: the bare package on a board that is not provisioned, refused on a provisioned one
    upload.packages = {sign(branch, 6)};
    EXPECT_EQ(chooseUpload(chain, upload, false, QStringLiteral("host"), &error), chain);
    EXPECT_FALSE(chooseUpload(chain, upload, true, QStringLiteral("host"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("board host is provisioned: it takes signed packages only"))) << error.toStdString();
    EXPECT_TRUE(error.contains(QStringLiteral("tinyml sign PROJECT --model 7"))) << error.toStdString();
    EXPECT_TRUE(error.contains(QStringLiteral("then flash again"))) << error.toStdString();
    EXPECT_TRUE(error.contains(QStringLiteral("nothing was sent"))) << error.toStdString();

    upload.modelId = 0;   // a caller without a model id still gets the way out
    EXPECT_FALSE(chooseUpload(chain, upload, true, QStringLiteral("host"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("none of the model's package"))) << error.toStdString();
    EXPECT_TRUE(error.contains(QStringLiteral("tinyml sign PROJECT --model ID"))) << error.toStdString();
    upload.modelId = 7;

    // a signed package the user named must be this model's, even on a board that is not provisioned
    upload.required = true;
    error.clear();
    EXPECT_FALSE(chooseUpload(chain, upload, false, QStringLiteral("host"), &error));
    EXPECT_TRUE(error.contains(QStringLiteral("is not one of model 7's"))) << error.toStdString();
}
