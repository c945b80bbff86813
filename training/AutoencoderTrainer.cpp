// The autoencoder's torch translation unit (~20 s to compile, like Trainer.cpp): kept apart from
// Trainer.cpp so that the classifier trainer does not rebuild for anomaly changes.
#include "AutoencoderTrainer.h"

#include <torch/torch.h>

#include <QJsonArray>
#include <QJsonObject>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

namespace tinyml::training {

namespace {

/// The dense widths after the encoder's input: dense D H H B H H D; conv (flattened conv output) B H D.
std::vector<int> denseWidths(const AutoencoderShape &s)
{
    if (s.conv)
        return {s.convLength2() * AutoencoderShape::kConvChannels2, s.bottleneck, s.hidden, s.input};
    return {s.input, s.hidden, s.hidden, s.bottleneck, s.hidden, s.hidden, s.input};
}

struct AutoencoderNetImpl : torch::nn::Module {
    std::vector<torch::nn::Conv2d> convs;     ///< conv variant only
    std::vector<torch::nn::Linear> layers;
    int input = 0;

    explicit AutoencoderNetImpl(const AutoencoderShape &s) : input(s.input)
    {
        if (s.conv) {
            int in = 1;
            for (int c : {AutoencoderShape::kConvChannels1, AutoencoderShape::kConvChannels2}) {
                convs.push_back(register_module(
                    "c" + std::to_string(convs.size()),
                    torch::nn::Conv2d(torch::nn::Conv2dOptions(in, c, {1, 3}).stride({1, 2}).padding({0, 1}))));
                in = c;
            }
        }
        const std::vector<int> widths = denseWidths(s);
        for (size_t i = 0; i + 1 < widths.size(); ++i)
            layers.push_back(register_module("l" + std::to_string(i), torch::nn::Linear(widths[i], widths[i + 1])));
    }

    torch::Tensor forward(torch::Tensor x)
    {
        if (!convs.empty()) {
            const int64_t n = x.size(0);
            x = x.view({n, 1, 1, input});          // NCHW: one channel, H = 1, W = the features
            for (auto &c : convs)
                x = torch::relu(c->forward(x));
            x = x.permute({0, 2, 3, 1}).flatten(1);   // NHWC order, as the IR flattens
        }
        for (size_t i = 0; i < layers.size(); ++i) {
            x = layers[i]->forward(x);
            if (i + 1 < layers.size())
                x = torch::relu(x);
        }
        return x;
    }
};
TORCH_MODULE(AutoencoderNet);

/// The same bounds Trainer checks (Trainer.h's constants), with the same messages.
bool checkOptions(const TrainOptions &o, QString *error)
{
    if (!std::isfinite(o.learningRate) || !(o.learningRate > 0) || o.learningRate > kMaxLearningRate) {
        *error = QStringLiteral("learning rate %1 is out of range: it must be a finite number in (0, %2]")
                     .arg(o.learningRate)
                     .arg(kMaxLearningRate);
        return false;
    }
    if (o.epochs < 1 || o.epochs > kMaxEpochs) {
        *error = QStringLiteral("epochs %1 is out of range: 1 to %2").arg(o.epochs).arg(kMaxEpochs);
        return false;
    }
    if (o.batchSize < 1) {
        *error = QStringLiteral("batch size %1 is out of range: at least 1").arg(o.batchSize);
        return false;
    }
    if (o.threads < 1 || o.threads > kMaxThreads) {
        *error = QStringLiteral("threads %1 is out of range: 1 to %2").arg(o.threads).arg(kMaxThreads);
        return false;
    }
    if (!std::isfinite(o.weightDecay) || o.weightDecay < 0 || !std::isfinite(o.minLearningRate) ||
        o.minLearningRate < 0) {
        *error = QStringLiteral("training options out of range (weight decay or learning-rate floor)");
        return false;
    }
    return true;
}

double learningRate(const TrainOptions &o, int epoch)
{
    switch (o.schedule) {
    case TrainOptions::Schedule::Cosine:
        return o.minLearningRate
               + 0.5 * (o.learningRate - o.minLearningRate) * (1 + std::cos(M_PI * epoch / std::max(1, o.epochs)));
    case TrainOptions::Schedule::Step:
        return o.learningRate * std::pow(o.stepGamma, epoch / std::max(1, o.stepEpochs));
    case TrainOptions::Schedule::Constant:
        break;
    }
    return o.learningRate;
}

QByteArray floatBytes(const torch::Tensor &t)
{
    auto c = t.detach().to(torch::kFloat).contiguous();
    return QByteArray(reinterpret_cast<const char *>(c.data_ptr<float>()), int(c.numel() * sizeof(float)));
}

torch::Tensor rows(const QVector<float> &x, int d)
{
    return torch::from_blob(const_cast<float *>(x.constData()), {int64_t(x.size() / d), int64_t(d)}, torch::kFloat)
        .clone();
}

std::vector<torch::Tensor> state(AutoencoderNet &net)
{
    std::vector<torch::Tensor> s;
    for (const auto &p : net->parameters())
        s.push_back(p.detach().clone());
    return s;
}

void restore(AutoencoderNet &net, const std::vector<torch::Tensor> &s)
{
    torch::NoGradGuard ng;
    size_t i = 0;
    for (auto &p : net->parameters())
        p.copy_(s[i++]);
}

double meanLoss(AutoencoderNet &net, const torch::Tensor &x)
{
    torch::NoGradGuard ng;
    net->eval();
    double sum = 0;
    for (int64_t s = 0; s < x.size(0); s += 256) {
        auto xb = x.slice(0, s, std::min(x.size(0), s + 256));
        sum += torch::mse_loss(net->forward(xb), xb, torch::Reduction::Sum).item<double>();
    }
    return x.size(0) ? sum / double(x.numel()) : 0;
}

model::Graph exportGraph(AutoencoderNet &net, const AutoencoderShape &shape)
{
    using namespace model;
    Graph g;
    int cur = g.addTensor(TensorDesc::activation(QStringLiteral("input"), {1, shape.input}));
    g.inputs = {cur};
    const int input = cur;
    if (!net->convs.empty()) {
        Node reshape;
        reshape.op = OpType::Reshape;
        reshape.name = QStringLiteral("to_1d");
        reshape.inputs = {cur};
        cur = g.addTensor(TensorDesc::activation(QStringLiteral("input_1d"), {1, 1, shape.input, 1}));
        reshape.outputs = {cur};
        g.addNode(reshape);
        int length = shape.input;
        for (size_t i = 0; i < net->convs.size(); ++i) {
            const auto &c = net->convs[i];
            const QString p = QStringLiteral("c%1").arg(i);
            Node conv;
            conv.op = OpType::Conv2D;
            conv.name = p + QStringLiteral("_conv");
            conv.strideH = 1;
            conv.strideW = 2;
            conv.padLeft = conv.padRight = 1;
            TensorDesc w, b;
            w.name = p + QStringLiteral(".weight");
            // torch [Cout, Cin, KH, KW] -> the IR's [Cout, KH, KW, Cin]
            w.shape = {int(c->weight.size(0)), 1, 3, int(c->weight.size(1))};
            w.data = floatBytes(c->weight.permute({0, 2, 3, 1}));
            b.name = p + QStringLiteral(".bias");
            b.shape = {int(c->bias.size(0))};
            b.data = floatBytes(c->bias);
            conv.inputs = {cur, g.addTensor(w), g.addTensor(b)};
            length = (length + 2 - 3) / 2 + 1;
            cur = g.addTensor(TensorDesc::activation(p + QStringLiteral(".out"), {1, 1, length, w.shape[0]}));
            conv.outputs = {cur};
            g.addNode(conv);
            Node relu;
            relu.op = OpType::Relu;
            relu.name = p + QStringLiteral("_relu");
            relu.inputs = {cur};
            cur = g.addTensor(TensorDesc::activation(p + QStringLiteral(".relu"), {1, 1, length, w.shape[0]}));
            relu.outputs = {cur};
            g.addNode(relu);
        }
    }
    for (size_t i = 0; i < net->layers.size(); ++i) {
        const auto &l = net->layers[i];
        const QString p = QStringLiteral("l%1").arg(i);
        Node fc;
        fc.op = OpType::FullyConnected;
        fc.name = p + QStringLiteral("_dense");
        TensorDesc w, b;
        w.name = p + QStringLiteral(".weight");
        w.shape = {int(l->weight.size(0)), int(l->weight.size(1))};
        w.data = floatBytes(l->weight);
        b.name = p + QStringLiteral(".bias");
        b.shape = {int(l->bias.size(0))};
        b.data = floatBytes(l->bias);
        fc.inputs = {cur, g.addTensor(w), g.addTensor(b)};
        const bool last = i + 1 == net->layers.size();
        cur = g.addTensor(TensorDesc::activation(last ? QStringLiteral("reconstruction") : p + QStringLiteral(".out"),
                                                 {1, w.shape[0]}));
        fc.outputs = {cur};
        g.addNode(fc);
        if (!last) {
            // A separate ReLU node, as Trainer exports it; the quantizer fuses it.
            Node relu;
            relu.op = OpType::Relu;
            relu.name = p + QStringLiteral("_relu");
            relu.inputs = {cur};
            cur = g.addTensor(TensorDesc::activation(p + QStringLiteral(".relu"), {1, w.shape[0]}));
            relu.outputs = {cur};
            g.addNode(relu);
        }
    }
    Node se;
    se.op = OpType::SquaredError;
    se.name = QStringLiteral("reconstruction_error");
    se.inputs = {cur, input};
    se.outputs = {g.addTensor(TensorDesc::activation(QStringLiteral("anomaly_score"), {1, 1}))};
    g.addNode(se);
    g.outputs = se.outputs;
    g.labels = {QStringLiteral("anomaly_score")};
    g.meta.insert(QStringLiteral("model_kind"), QStringLiteral("autoencoder"));
    QJsonObject facts{{QStringLiteral("input"), shape.input},
                      {QStringLiteral("hidden"), shape.hidden},
                      {QStringLiteral("bottleneck"), shape.bottleneck},
                      {QStringLiteral("encoder"), shape.conv ? QStringLiteral("conv1d") : QStringLiteral("dense")}};
    if (shape.conv)
        facts.insert(QStringLiteral("conv_channels"),
                     QJsonArray{AutoencoderShape::kConvChannels1, AutoencoderShape::kConvChannels2});
    g.meta.insert(QStringLiteral("autoencoder"), facts);
    g.meta.insert(QStringLiteral("exporter"),
                  QStringLiteral("tinyml training (libtorch %1)").arg(QStringLiteral(TORCH_VERSION)));
    return g;
}

AutoencoderResult runChecked(const QVector<float> &train, const QVector<float> &validation,
                             const AutoencoderShape &shape, const TrainOptions &o)
{
    AutoencoderResult out;
    TrainResult &r = out.train;
    out.shape = shape;
    const int d = shape.input;
    if (d < 1 || shape.hidden < 1 || shape.bottleneck < 1 || train.isEmpty() || train.size() % d != 0 || validation.size() % d != 0) {
        r.error = QStringLiteral("autoencoder: the training data is empty or not rows of %1 values").arg(d);
        return out;
    }
    torch::set_num_threads(std::max(1, o.threads));
    torch::manual_seed(o.seed + 1);
    std::mt19937_64 rng(o.seed * 0x9E3779B97F4A7C15ULL + 7);
    AutoencoderNet net(out.shape);
    const torch::Tensor x = rows(train, d);
    const torch::Tensor vx = validation.isEmpty() ? torch::Tensor() : rows(validation, d);
    const int64_t n = x.size(0);
    // As Trainer: a small set trains with n / 10 (at least 8) per batch, about ten steps an epoch.
    const int64_t batch = std::max<int64_t>(1, std::min<int64_t>(o.batchSize, std::max<int64_t>(8, n / 10)));

    torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(o.learningRate).weight_decay(o.weightDecay));
    std::vector<torch::Tensor> best = state(net);
    double bestLoss = std::numeric_limits<double>::infinity();
    int sinceBest = 0;
    double totalSeconds = 0;
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    for (int epoch = 0; epoch < o.epochs; ++epoch) {
        const auto t0 = std::chrono::steady_clock::now();
        const double lr = learningRate(o, epoch);
        for (auto &g : opt.param_groups())
            static_cast<torch::optim::AdamOptions &>(g.options()).lr(lr);
        net->train();
        std::shuffle(order.begin(), order.end(), rng);
        double lossSum = 0;
        int64_t seen = 0;
        for (int64_t s = 0; s < n; s += batch) {
            if (o.cancel && o.cancel->load()) {
                r.cancelled = true;
                r.error = QStringLiteral("cancelled");
                return out;
            }
            const int64_t e = std::min(n, s + batch);
            auto idx = torch::tensor(std::vector<int64_t>(order.begin() + s, order.begin() + e), torch::kLong);
            auto xb = x.index_select(0, idx);
            auto loss = torch::mse_loss(net->forward(xb), xb);
            const double batchLoss = loss.item<double>();
            if (!std::isfinite(batchLoss)) {
                r.error = QStringLiteral("training diverged: the loss became %1 in epoch %2 (learning rate %3); "
                                         "lower the learning rate")
                              .arg(std::isnan(batchLoss) ? QStringLiteral("NaN") : QStringLiteral("infinite"))
                              .arg(epoch + 1)
                              .arg(lr, 0, 'g', 3);
                return out;
            }
            opt.zero_grad();
            loss.backward();
            opt.step();
            lossSum += batchLoss * double(e - s);
            seen += e - s;
        }
        EpochProgress p;
        p.epoch = epoch + 1;
        p.epochs = o.epochs;
        p.loss = seen ? lossSum / double(seen) : 0;
        p.valLoss = vx.defined() ? meanLoss(net, vx) : meanLoss(net, x);
        p.learningRate = lr;
        p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        totalSeconds += p.seconds;
        r.history.append(p);
        r.epochsRun = epoch + 1;
        if (o.onEpoch)
            o.onEpoch(p);
        if (!std::isfinite(p.valLoss)) {
            r.error = QStringLiteral("training diverged: the validation loss became non-finite in epoch %1; "
                                     "lower the learning rate").arg(epoch + 1);
            return out;
        }
        if (p.valLoss < bestLoss - 1e-9) {
            bestLoss = p.valLoss;
            best = state(net);
            r.bestEpoch = epoch + 1;
            sinceBest = 0;
        } else if (o.patience > 0 && ++sinceBest >= o.patience) {
            break;
        }
    }
    restore(net, best);
    net->eval();
    r.secondsPerEpoch = r.epochsRun ? totalSeconds / r.epochsRun : 0;
    out.graph = exportGraph(net, out.shape);
    r.ok = true;
    return out;
}

} // namespace

AutoencoderShape AutoencoderShape::forInput(int d, qint64 maxWeightBytes, bool conv)
{
    AutoencoderShape s;
    s.input = d;
    s.conv = conv;
    s.hidden = std::min(128, std::max(16, 2 * d));
    s.bottleneck = std::min(8, std::max(1, d / 4));
    while (maxWeightBytes > 0 && s.int8WeightBytes() > maxWeightBytes && s.hidden > 8)
        s.hidden = std::max(8, s.hidden / 2);
    return s;
}

int AutoencoderShape::parameterCount() const
{
    const std::vector<int> w = denseWidths(*this);
    int n = conv ? 3 * kConvChannels1 + kConvChannels1 + 3 * kConvChannels1 * kConvChannels2 + kConvChannels2 : 0;
    for (size_t i = 0; i + 1 < w.size(); ++i)
        n += w[i] * w[i + 1] + w[i + 1];
    return n;
}

qint64 AutoencoderShape::int8WeightBytes() const
{
    const std::vector<int> w = denseWidths(*this);
    qint64 n = conv ? 3 * kConvChannels1 + 4 * kConvChannels1 + 3 * kConvChannels1 * kConvChannels2 + 4 * kConvChannels2 : 0;
    for (size_t i = 0; i + 1 < w.size(); ++i)
        n += qint64(w[i]) * w[i + 1] + 4 * w[i + 1];
    return n;
}

AutoencoderResult trainAutoencoder(const QVector<float> &train, const QVector<float> &validation,
                                   const AutoencoderShape &shape, const TrainOptions &options)
{
    AutoencoderResult out;
    if (!checkOptions(options, &out.train.error))
        return out;
    try {
        return runChecked(train, validation, shape, options);
    } catch (const std::exception &e) {
        out = AutoencoderResult();
        out.train.error = QStringLiteral("training failed in libtorch: %1")
                              .arg(QString::fromUtf8(e.what()).trimmed().section(QLatin1Char('\n'), 0, 0));
        return out;
    }
}

} // namespace tinyml::training
