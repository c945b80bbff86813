// The one translation unit with torch headers (~20 s to compile): the zoo network, the
// training loop, quantization-aware fine-tuning and the export to the float model IR.
#include "Trainer.h"

#include "model/QuantizationMath.h"

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

using K = LayerSpec::Kind;

struct Range {
    bool init = false;
    float min = 0, max = 0;
};

/// The zoo network: one torch module per weighted layer of the spec, run in spec order.
/// Tensors are NCHW on this side ([N, F] when flat); the IR export converts layouts.
struct NetImpl : torch::nn::Module {
    ModelSpec spec;
    QVector<QVector<int>> shapes;
    std::vector<torch::nn::Conv2d> convs;
    std::vector<torch::nn::Linear> denses;
    std::vector<torch::nn::BatchNorm2d> bn2;
    std::vector<torch::nn::BatchNorm1d> bn1;
    std::vector<bool> folded;         ///< BatchNorm folded into the preceding layer
    std::vector<bool> quantPoint;     ///< an int8 tensor ends here (after conv/fc [+bn][+act])
    // quantization-aware mode
    bool fakeQuant = false;
    double momentum = 0.9;
    Range inputRange;
    std::vector<Range> ranges;

    explicit NetImpl(const ModelSpec &s) : spec(s)
    {
        shapes = spec.shapes();
        const int n = spec.layers.size();
        convs.resize(n, nullptr);
        denses.resize(n, nullptr);
        bn2.resize(n, nullptr);
        bn1.resize(n, nullptr);
        folded.assign(n, false);
        quantPoint.assign(n, false);
        ranges.assign(n, Range{});
        for (int i = 0; i < n; ++i) {
            const LayerSpec &l = spec.layers[i];
            const QVector<int> in = i ? shapes[i - 1] : spec.inputShape;
            const std::string name = "l" + std::to_string(i);
            switch (l.kind) {
            case K::Conv2D:
            case K::DepthwiseConv2D: {
                const int cin = in[2];
                const int cout = l.kind == K::Conv2D ? l.outChannels : cin;
                auto opt = torch::nn::Conv2dOptions(cin, cout, {l.kernelH, l.kernelW})
                               .stride({l.strideH, l.strideW})
                               .padding({l.padH, l.padW})
                               .groups(l.kind == K::Conv2D ? 1 : cin)
                               .bias(true);
                convs[i] = register_module(name, torch::nn::Conv2d(opt));
                break;
            }
            case K::Dense: {
                qint64 cin = 1;
                for (int d : in)
                    cin *= d;
                denses[i] = register_module(name, torch::nn::Linear(cin, l.outChannels));
                break;
            }
            case K::BatchNorm:
                if (in.size() == 3)
                    bn2[i] = register_module(name, torch::nn::BatchNorm2d(in[2]));
                else
                    bn1[i] = register_module(name, torch::nn::BatchNorm1d(in[0]));
                break;
            default:
                break;
            }
        }
        for (int i = 0; i < n; ++i) {
            const K k = spec.layers[i].kind;
            if (k != K::Conv2D && k != K::DepthwiseConv2D && k != K::Dense && k != K::BatchNorm &&
                k != K::Relu && k != K::Relu6)
                continue;
            int next = i + 1;
            while (next < n && spec.layers[next].kind == K::Dropout)
                ++next;
            const bool continues = next < n && (spec.layers[next].kind == K::BatchNorm ||
                                                spec.layers[next].kind == K::Relu ||
                                                spec.layers[next].kind == K::Relu6);
            quantPoint[i] = !continues;
        }
    }

    torch::Tensor fakeQuantAct(const torch::Tensor &x, Range &r)
    {
        if (is_training()) {
            const float mn = x.min().item<float>(), mx = x.max().item<float>();
            if (!r.init) {
                r = {true, mn, mx};
            } else {
                r.min = float(momentum * r.min + (1 - momentum) * mn);
                r.max = float(momentum * r.max + (1 - momentum) * mx);
            }
        }
        const model::QuantParams q = model::chooseQuantParams(r.min, r.max);
        return torch::fake_quantize_per_tensor_affine(x, q.scale, q.zeroPoint, -128, 127);
    }

    static torch::Tensor fakeQuantWeight(const torch::Tensor &w)
    {
        auto scale = w.detach().abs().flatten(1).amax(1).div(127.0).clamp_min(1e-12).to(torch::kFloat);
        auto zp = torch::zeros({w.size(0)}, torch::kInt);
        return torch::fake_quantize_per_channel_affine(w, scale, zp, 0, -127, 127);
    }

    torch::Tensor forward(torch::Tensor x)
    {
        if (fakeQuant)
            x = fakeQuantAct(x, inputRange);
        for (int i = 0; i < spec.layers.size(); ++i) {
            const LayerSpec &l = spec.layers[i];
            switch (l.kind) {
            case K::Conv2D:
            case K::DepthwiseConv2D: {
                auto &c = convs[i];
                auto w = fakeQuant ? fakeQuantWeight(c->weight) : c->weight;
                x = torch::conv2d(x, w, c->bias, {l.strideH, l.strideW}, {l.padH, l.padW}, {1, 1},
                                  c->options.groups());
                break;
            }
            case K::Dense: {
                auto &f = denses[i];
                auto w = fakeQuant ? fakeQuantWeight(f->weight) : f->weight;
                x = torch::linear(x, w, f->bias);
                break;
            }
            case K::BatchNorm:
                if (!folded[i])
                    x = bn2[i] ? bn2[i]->forward(x) : bn1[i]->forward(x);
                break;
            case K::Relu: x = torch::relu(x); break;
            case K::Relu6: x = torch::clamp(x, 0.0, 6.0); break;
            case K::MaxPool: x = torch::max_pool2d(x, {l.kernelH, l.kernelW}, {l.strideH, l.strideW}); break;
            case K::AvgPool: x = torch::avg_pool2d(x, {l.kernelH, l.kernelW}, {l.strideH, l.strideW}); break;
            case K::GlobalAvgPool: x = x.mean({2, 3}); break;
            case K::Flatten:
                // NHWC element order, as the IR's reshape keeps it.
                x = x.dim() == 4 ? x.permute({0, 2, 3, 1}).flatten(1) : x.flatten(1);
                break;
            case K::Dropout: x = torch::dropout(x, l.dropout, is_training()); break;
            }
            if (fakeQuant && quantPoint[i])
                x = fakeQuantAct(x, ranges[i]);
        }
        return x;
    }

    /// Folds every BatchNorm into the conv / dense layer before it (eval statistics).
    void foldBatchNorms()
    {
        torch::NoGradGuard ng;
        for (int i = 1; i < spec.layers.size(); ++i) {
            if (spec.layers[i].kind != K::BatchNorm || folded[i])
                continue;
            torch::Tensor w, b;
            if (convs[i - 1]) {
                w = convs[i - 1]->weight;
                b = convs[i - 1]->bias;
            } else if (denses[i - 1]) {
                w = denses[i - 1]->weight;
                b = denses[i - 1]->bias;
            } else {
                continue;
            }
            torch::Tensor gamma, beta, mean, var;
            double eps;
            if (bn2[i]) {
                gamma = bn2[i]->weight; beta = bn2[i]->bias; mean = bn2[i]->running_mean;
                var = bn2[i]->running_var; eps = bn2[i]->options.eps();
            } else {
                gamma = bn1[i]->weight; beta = bn1[i]->bias; mean = bn1[i]->running_mean;
                var = bn1[i]->running_var; eps = bn1[i]->options.eps();
            }
            auto scale = gamma / torch::sqrt(var + eps);
            std::vector<int64_t> view(w.dim(), 1);
            view[0] = -1;
            w.mul_(scale.view(view));
            b.copy_((b - mean) * scale + beta);
            folded[i] = true;
            gamma.set_requires_grad(false);
            beta.set_requires_grad(false);
        }
    }
};
TORCH_MODULE(Net);

torch::Tensor toTorch(const TrainingData &data)
{
    std::vector<int64_t> shape{data.count()};
    for (int d : data.inputShape)
        shape.push_back(d);
    auto t = torch::from_blob(const_cast<float *>(data.x.constData()), shape, torch::kFloat).clone();
    if (shape.size() == 4)
        t = t.permute({0, 3, 1, 2}).contiguous();
    return t;
}

torch::Tensor labelsToTorch(const TrainingData &data)
{
    std::vector<int64_t> y(data.y.begin(), data.y.end());
    return torch::tensor(y, torch::kLong);
}

QByteArray floatBytes(const torch::Tensor &t)
{
    auto c = t.detach().to(torch::kFloat).contiguous();
    return QByteArray(reinterpret_cast<const char *>(c.data_ptr<float>()), int(c.numel() * sizeof(float)));
}

double learningRate(const TrainOptions &o, double base, int epoch, int epochs)
{
    switch (o.schedule) {
    case TrainOptions::Schedule::Cosine:
        return o.minLearningRate + 0.5 * (base - o.minLearningRate) * (1 + std::cos(M_PI * epoch / std::max(1, epochs)));
    case TrainOptions::Schedule::Step:
        return base * std::pow(o.stepGamma, epoch / std::max(1, o.stepEpochs));
    case TrainOptions::Schedule::Constant:
        break;
    }
    return base;
}

/// Bounds on the options one run takes; the message names the option as the CLI and the GUI
/// call it. The learning rate bound: Adam's step is about lr per weight, so above 10 a first
/// step already throws the weights far from any useful range (1e308 overflowed to inf).
bool checkOptions(const TrainOptions &o, double baseLr, int epochs, QString *error)
{
    if (!std::isfinite(baseLr) || !(baseLr > 0) || baseLr > kMaxLearningRate) {
        *error = QStringLiteral("learning rate %1 is out of range: it must be a finite number in (0, %2]")
                     .arg(baseLr)
                     .arg(kMaxLearningRate);
        return false;
    }
    if (epochs < 1 || epochs > kMaxEpochs) {
        *error = QStringLiteral("epochs %1 is out of range: 1 to %2").arg(epochs).arg(kMaxEpochs);
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
        o.minLearningRate < 0 || !std::isfinite(o.stepGamma) || !(o.stepGamma > 0) ||
        !std::isfinite(o.validationFraction) || o.validationFraction < 0 || o.validationFraction >= 1) {
        *error = QStringLiteral("training options out of range (weight decay, learning-rate floor, step gamma "
                                "or validation fraction)");
        return false;
    }
    return true;
}

/// libtorch's messages carry a C++ backtrace after the first line: keep the first line.
QString torchMessage(const std::exception &e)
{
    const QString text = QString::fromUtf8(e.what()).trimmed();
    return text.section(QLatin1Char('\n'), 0, 0).trimmed();
}

} // namespace

struct Trainer::Impl {
    ModelSpec spec;
    Net net{nullptr};

    std::vector<torch::Tensor> state() const
    {
        std::vector<torch::Tensor> s;
        for (const auto &p : net->parameters())
            s.push_back(p.detach().clone());
        for (const auto &b : net->buffers())
            s.push_back(b.detach().clone());
        return s;
    }
    void restore(const std::vector<torch::Tensor> &s)
    {
        torch::NoGradGuard ng;
        size_t i = 0;
        for (auto &p : net->parameters())
            p.copy_(s[i++]);
        for (auto &b : net->buffers())
            b.copy_(s[i++]);
    }

    /// Mean loss and accuracy of the current network on x / y (eval mode).
    std::pair<double, double> score(const torch::Tensor &x, const torch::Tensor &y, const torch::Tensor &weights)
    {
        torch::NoGradGuard ng;
        net->eval();
        double loss = 0;
        int64_t correct = 0;
        const int64_t n = x.size(0);
        for (int64_t s = 0; s < n; s += 256) {
            const int64_t e = std::min(n, s + 256);
            auto out = net->forward(x.slice(0, s, e));
            auto yb = y.slice(0, s, e);
            loss += torch::nn::functional::cross_entropy(
                        out, yb, torch::nn::functional::CrossEntropyFuncOptions().weight(weights).reduction(torch::kSum))
                        .item<double>();
            correct += out.argmax(1).eq(yb).sum().item<int64_t>();
        }
        // Weighted sum divided by the weighted count, as the training loss is.
        const double wsum = weights.defined() ? weights.index_select(0, y).sum().item<double>() : double(n);
        return {n ? loss / wsum : 0, n ? double(correct) / n : 0};
    }

    /// Checks the options, then trains; a libtorch error becomes an error result instead of an
    /// exception (a bad option must not abort the CLI or the GUI).
    TrainResult run(const TrainingData &data, const TrainOptions &o, double baseLr, int epochs, bool earlyStop)
    {
        TrainResult r;
        if (!checkOptions(o, baseLr, epochs, &r.error))
            return r;
        try {
            return runChecked(data, o, baseLr, epochs, earlyStop);
        } catch (const std::exception &e) {
            r = TrainResult();
            r.error = QStringLiteral("training failed in libtorch: %1").arg(torchMessage(e));
            return r;
        }
    }

    /// Sets BatchNorm layers to eval (true) or back to the net's mode.
    void freezeBatchNorms(bool freeze)
    {
        const bool training = !freeze && net->is_training();
        for (auto &b : net->bn2)
            if (b)
                b->train(training);
        for (auto &b : net->bn1)
            if (b)
                b->train(training);
    }

    /// True when every parameter and buffer is finite.
    bool finiteState() const
    {
        torch::NoGradGuard ng;
        for (const auto &p : net->parameters())
            if (!torch::isfinite(p).all().item<bool>())
                return false;
        for (const auto &b : net->buffers())
            if (b.is_floating_point() && !torch::isfinite(b).all().item<bool>())
                return false;
        return true;
    }

    TrainResult runChecked(const TrainingData &data, const TrainOptions &o, double baseLr, int epochs, bool earlyStop)
    {
        TrainResult r;
        QString err;
        if (!data.isValid(&err)) {
            r.error = err;
            return r;
        }
        if (data.inputShape != spec.inputShape || data.classCount() != spec.numClasses) {
            r.error = QStringLiteral("training data does not match the model (input shape or class count)");
            return r;
        }
        torch::set_num_threads(std::max(1, o.threads));
        torch::manual_seed(o.seed + 1);
        std::mt19937_64 rng(o.seed * 0x9E3779B97F4A7C15ULL + 7);

        QVector<int> trainRows, valRows;
        stratifiedSplit(data, o.validationFraction, o.seed, &trainRows, &valRows);
        const TrainingData tr = data.subset(trainRows), va = data.subset(valRows);
        const torch::Tensor x = toTorch(tr), y = labelsToTorch(tr);
        const torch::Tensor vx = toTorch(va), vy = labelsToTorch(va);

        torch::Tensor weights;
        if (o.classWeights) {
            const QVector<int> counts = tr.classCounts();
            std::vector<float> w(counts.size());
            for (int c = 0; c < counts.size(); ++c)
                w[c] = counts[c] ? float(tr.count()) / (counts.size() * counts[c]) : 0.0f;
            weights = torch::tensor(w);
        }
        const bool augment = o.augment && data.timeSeries && data.inputShape.size() == 3;
        const int64_t timeSteps = augment ? x.size(3) : 0;
        const int maxShift = int(o.maxShiftFraction * timeSteps);

        torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(baseLr).weight_decay(o.weightDecay));
        std::vector<torch::Tensor> best = state();
        double bestLoss = std::numeric_limits<double>::infinity();
        int sinceBest = 0;
        std::vector<int64_t> order(tr.count());
        std::iota(order.begin(), order.end(), 0);
        double totalSeconds = 0;
        const size_t batch = size_t(std::max(1, std::min(o.batchSize, std::max(8, tr.count() / 10))));
        int64_t seenAny = 0;

        for (int epoch = 0; epoch < epochs; ++epoch) {
            const auto t0 = std::chrono::steady_clock::now();
            const double lr = learningRate(o, baseLr, epoch, epochs);
            for (auto &g : opt.param_groups())
                static_cast<torch::optim::AdamOptions &>(g.options()).lr(lr);
            net->train();
            std::shuffle(order.begin(), order.end(), rng);
            double lossSum = 0;
            int64_t seen = 0, correct = 0;
            for (size_t s = 0; s < order.size(); s += batch) {
                const size_t e = std::min(order.size(), s + batch);
                // BatchNorm in training mode needs two samples per batch. A lone last sample of
                // a bigger batch size is dropped (as drop_last would); with batch size 1 (or a
                // one-sample set) every batch has one sample, and those train with BatchNorm in
                // eval mode: its running statistics stay as they are and it acts as the learned
                // per-channel scale and shift it becomes on the device anyway.
                const bool single = e - s < 2;
                if (single && batch > 1 && order.size() > 1)
                    break;
                if (o.cancel && o.cancel->load()) {
                    r.cancelled = true;
                    r.error = QStringLiteral("cancelled");
                    restore(best);
                    return r;
                }
                auto idx = torch::tensor(std::vector<int64_t>(order.begin() + s, order.begin() + e), torch::kLong);
                auto xb = x.index_select(0, idx);
                auto yb = y.index_select(0, idx);
                if (augment) {
                    const int64_t b = xb.size(0);
                    if (o.gainRange > 0)
                        xb = xb * (1 + (torch::rand({b, 1, 1, 1}) * 2 - 1) * o.gainRange);
                    if (maxShift > 0) {
                        std::uniform_int_distribution<int> shift(-maxShift, maxShift);
                        std::vector<torch::Tensor> rows;
                        for (int64_t k = 0; k < b; ++k)
                            rows.push_back(torch::roll(xb[k], {shift(rng)}, {2}));
                        xb = torch::stack(rows);
                    }
                    if (o.noiseStd > 0)
                        xb = xb + torch::randn_like(xb) * o.noiseStd;
                }
                if (single)
                    freezeBatchNorms(true);
                auto out = net->forward(xb);
                if (single)
                    freezeBatchNorms(false);
                auto loss = torch::nn::functional::cross_entropy(
                    out, yb, torch::nn::functional::CrossEntropyFuncOptions().weight(weights));
                const double batchLoss = loss.item<double>();
                if (!std::isfinite(batchLoss)) {
                    // Diverged (learning rate too high, or non-finite data): no model to keep.
                    r.error = QStringLiteral("training diverged: the loss became %1 in epoch %2 (learning rate %3); "
                                             "lower the learning rate")
                                  .arg(std::isnan(batchLoss) ? QStringLiteral("NaN") : QStringLiteral("infinite"))
                                  .arg(epoch + 1)
                                  .arg(lr, 0, 'g', 3);
                    restore(best);
                    return r;
                }
                opt.zero_grad();
                loss.backward();
                opt.step();
                lossSum += batchLoss * (e - s);
                seen += e - s;
                seenAny += e - s;
                correct += out.argmax(1).eq(yb).sum().item<int64_t>();
            }
            EpochProgress p;
            p.epoch = epoch + 1;
            p.epochs = epochs;
            p.loss = seen ? lossSum / seen : 0;
            p.accuracy = seen ? double(correct) / seen : 0;
            p.learningRate = lr;
            if (va.count() > 0) {
                auto [vl, vacc] = score(vx, vy, weights);
                p.valLoss = vl;
                p.valAccuracy = vacc;
            } else {
                p.valLoss = p.loss;
                p.valAccuracy = p.accuracy;
            }
            p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            totalSeconds += p.seconds;
            r.history.append(p);
            r.epochsRun = epoch + 1;
            if (o.onEpoch)
                o.onEpoch(p);
            if (!earlyStop || p.valLoss < bestLoss - 1e-7) {
                bestLoss = std::min(bestLoss, p.valLoss);
                best = state();
                r.bestEpoch = epoch + 1;
                sinceBest = 0;
            } else if (o.patience > 0 && ++sinceBest >= o.patience) {
                break;
            }
        }
        restore(best);
        net->eval();
        if (!finiteState()) {
            // The last step can blow the weights up after a finite loss was measured.
            r.error = QStringLiteral("training diverged: the weights are no longer finite; lower the learning rate");
            return r;
        }
        if (seenAny == 0) {
            r.error = QStringLiteral("training ran no batch (the train split is empty)");
            return r;
        }
        r.secondsPerEpoch = r.epochsRun ? totalSeconds / r.epochsRun : 0;
        if (va.count() > 0) {
            const QVector<float> probs = predictAll(vx);
            r.validation = computeMetrics(va.y, argmaxRows(probs, spec.numClasses), data.labels);
        }
        r.ok = true;
        return r;
    }

    QVector<float> predictAll(const torch::Tensor &x)
    {
        torch::NoGradGuard ng;
        net->eval();
        QVector<float> out;
        out.reserve(int(x.size(0) * spec.numClasses));
        for (int64_t s = 0; s < x.size(0); s += 256) {
            auto p = torch::softmax(net->forward(x.slice(0, s, std::min(x.size(0), s + 256))), 1).contiguous();
            out.append(QVector<float>(p.data_ptr<float>(), p.data_ptr<float>() + p.numel()));
        }
        return out;
    }
};

Trainer::Trainer(const ModelSpec &spec, std::uint64_t seed) : d(std::make_unique<Impl>())
{
    d->spec = spec;
    torch::manual_seed(seed);
    d->net = Net(spec);
    d->net->eval();
}

Trainer::~Trainer() = default;

const ModelSpec &Trainer::spec() const { return d->spec; }

TrainResult Trainer::fit(const TrainingData &train, const TrainOptions &options)
{
    d->net->fakeQuant = false;
    return d->run(train, options, options.learningRate, options.epochs, true);
}

TrainResult Trainer::fineTuneQuantAware(const TrainingData &train, const TrainOptions &options,
                                        const QatOptions &qat)
{
    d->net->foldBatchNorms();
    d->net->fakeQuant = true;
    d->net->momentum = qat.rangeMomentum;
    TrainOptions o = options;
    o.schedule = TrainOptions::Schedule::Constant;
    // Fine-tuning keeps the last weights: the ranges tracked alongside belong to them.
    TrainResult r = d->run(train, o, qat.learningRate, qat.epochs, false);
    d->net->fakeQuant = false;
    return r;
}

QVector<float> Trainer::predict(const TrainingData &data, int threads) const
{
    torch::set_num_threads(std::max(1, threads));
    return d->predictAll(toTorch(data));
}

ClassificationMetrics Trainer::evaluate(const TrainingData &data, int threads) const
{
    return computeMetrics(data.y, argmaxRows(predict(data, threads), d->spec.numClasses), data.labels);
}

QVector<float> Trainer::flatParameters() const
{
    QVector<float> out;
    for (const auto &s : d->state()) {
        if (s.scalar_type() != torch::kFloat)
            continue;
        auto c = s.contiguous();
        out.append(QVector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel()));
    }
    return out;
}

model::Graph Trainer::exportGraph(const QStringList &labels) const
{
    using namespace model;
    const ModelSpec &spec = d->spec;
    const NetImpl &net = *d->net;
    Graph g;
    auto act = [&](const QString &name, QVector<int> shape) {
        TensorDesc t;
        t.name = name;
        shape.prepend(1);
        t.shape = shape;
        g.tensors.append(t);
        return int(g.tensors.size() - 1);
    };
    auto constant = [&](const QString &name, const torch::Tensor &value) {
        TensorDesc t;
        t.name = name;
        for (int64_t s : value.sizes())
            t.shape.append(int(s));
        t.data = floatBytes(value);
        g.tensors.append(t);
        return int(g.tensors.size() - 1);
    };
    int cur = act(QStringLiteral("input"), spec.inputShape);
    g.inputs = {cur};
    for (int i = 0; i < spec.layers.size(); ++i) {
        const LayerSpec &l = spec.layers[i];
        const QString p = QStringLiteral("l%1").arg(i);
        Node n;
        n.name = p + QLatin1Char('_') + layerKindName(l.kind);
        switch (l.kind) {
        case K::Conv2D:
        case K::DepthwiseConv2D: {
            const auto &c = net.convs[i];
            n.op = l.kind == K::Conv2D ? OpType::Conv2D : OpType::DepthwiseConv2D;
            // torch [O, I, KH, KW] -> [O, KH, KW, I]; depthwise [C, 1, KH, KW] -> [1, KH, KW, C]
            auto w = l.kind == K::Conv2D ? c->weight.permute({0, 2, 3, 1}) : c->weight.permute({1, 2, 3, 0});
            n.inputs = {cur, constant(p + QStringLiteral(".weight"), w), constant(p + QStringLiteral(".bias"), c->bias)};
            n.strideH = l.strideH;
            n.strideW = l.strideW;
            n.padTop = n.padBottom = l.padH;
            n.padLeft = n.padRight = l.padW;
            break;
        }
        case K::Dense: {
            const auto &f = net.denses[i];
            n.op = OpType::FullyConnected;
            n.inputs = {cur, constant(p + QStringLiteral(".weight"), f->weight), constant(p + QStringLiteral(".bias"), f->bias)};
            break;
        }
        case K::BatchNorm: {
            if (net.folded[i])
                continue;
            n.op = OpType::BatchNorm;
            if (net.bn2[i]) {
                const auto &b = net.bn2[i];
                n.inputs = {cur, constant(p + QStringLiteral(".gamma"), b->weight), constant(p + QStringLiteral(".beta"), b->bias),
                            constant(p + QStringLiteral(".mean"), b->running_mean), constant(p + QStringLiteral(".var"), b->running_var)};
                n.epsilon = float(b->options.eps());
            } else {
                const auto &b = net.bn1[i];
                n.inputs = {cur, constant(p + QStringLiteral(".gamma"), b->weight), constant(p + QStringLiteral(".beta"), b->bias),
                            constant(p + QStringLiteral(".mean"), b->running_mean), constant(p + QStringLiteral(".var"), b->running_var)};
                n.epsilon = float(b->options.eps());
            }
            break;
        }
        case K::Relu: n.op = OpType::Relu; n.inputs = {cur}; break;
        case K::Relu6: n.op = OpType::Relu6; n.inputs = {cur}; break;
        case K::MaxPool:
        case K::AvgPool:
            n.op = l.kind == K::MaxPool ? OpType::MaxPool2D : OpType::AvgPool2D;
            n.inputs = {cur};
            n.kernelH = l.kernelH;
            n.kernelW = l.kernelW;
            n.strideH = l.strideH;
            n.strideW = l.strideW;
            break;
        case K::GlobalAvgPool: n.op = OpType::GlobalAvgPool; n.inputs = {cur}; break;
        case K::Flatten: n.op = OpType::Reshape; n.inputs = {cur}; break;
        case K::Dropout: continue;
        }
        cur = act(p + QStringLiteral(".out"), net.shapes[i]);
        n.outputs = {cur};
        g.nodes.append(n);
    }
    Node sm;
    sm.op = OpType::Softmax;
    sm.name = QStringLiteral("softmax");
    sm.inputs = {cur};
    cur = act(QStringLiteral("probabilities"), {spec.numClasses});
    sm.outputs = {cur};
    g.nodes.append(sm);
    g.outputs = {cur};
    g.labels = labels;
    g.meta.insert(QStringLiteral("model_kind"), architectureName(spec.kind));
    g.meta.insert(QStringLiteral("spec"), spec.toJson());
    g.meta.insert(QStringLiteral("exporter"), QStringLiteral("tinyml training (libtorch %1)").arg(QStringLiteral(TORCH_VERSION)));
    bool anyFolded = false;
    for (bool f : net.folded)
        anyFolded |= f;
    if (anyFolded)
        g.meta.insert(QStringLiteral("batch_norm_folded"), true);
    return g;
}

std::unique_ptr<Trainer> Trainer::fromGraph(const model::Graph &graph, QString *error)
{
    auto spec = ModelSpec::fromJson(graph.meta.value(QStringLiteral("spec")).toObject(), error);
    if (!spec)
        return nullptr;
    auto t = std::make_unique<Trainer>(*spec);
    NetImpl &net = *t->d->net;
    QHash<QString, int> byName;
    for (int i = 0; i < graph.tensors.size(); ++i)
        byName.insert(graph.tensors[i].name, i);
    torch::NoGradGuard ng;
    auto load = [&](const QString &name, torch::Tensor target, std::vector<int64_t> perm) {
        const int idx = byName.value(name, -1);
        if (idx < 0 || graph.tensors[idx].dtype != DType::Float32 || !graph.tensors[idx].isConstant())
            return false;
        const model::TensorDesc &td = graph.tensors[idx];
        std::vector<int64_t> shape(td.shape.begin(), td.shape.end());
        if (td.data.size() != qint64(target.numel()) * 4)
            return false;
        auto src = torch::from_blob(const_cast<char *>(td.data.constData()), shape, torch::kFloat);
        if (!perm.empty())
            src = src.permute(perm);
        if (src.sizes() != target.sizes())
            return false;
        target.copy_(src);
        return true;
    };
    for (int i = 0; i < spec->layers.size(); ++i) {
        const QString p = QStringLiteral("l%1").arg(i);
        bool ok = true;
        switch (spec->layers[i].kind) {
        case K::Conv2D:
            ok = load(p + QStringLiteral(".weight"), net.convs[i]->weight, {0, 3, 1, 2}) &&
                 load(p + QStringLiteral(".bias"), net.convs[i]->bias, {});
            break;
        case K::DepthwiseConv2D:
            ok = load(p + QStringLiteral(".weight"), net.convs[i]->weight, {3, 0, 1, 2}) &&
                 load(p + QStringLiteral(".bias"), net.convs[i]->bias, {});
            break;
        case K::Dense:
            ok = load(p + QStringLiteral(".weight"), net.denses[i]->weight, {}) &&
                 load(p + QStringLiteral(".bias"), net.denses[i]->bias, {});
            break;
        case K::BatchNorm: {
            if (!byName.contains(p + QStringLiteral(".gamma"))) {
                net.folded[i] = true;  // a folded graph (after QAT)
                break;
            }
            torch::Tensor w, b, m, v;
            if (net.bn2[i]) { w = net.bn2[i]->weight; b = net.bn2[i]->bias; m = net.bn2[i]->running_mean; v = net.bn2[i]->running_var; }
            else { w = net.bn1[i]->weight; b = net.bn1[i]->bias; m = net.bn1[i]->running_mean; v = net.bn1[i]->running_var; }
            ok = load(p + QStringLiteral(".gamma"), w, {}) && load(p + QStringLiteral(".beta"), b, {}) &&
                 load(p + QStringLiteral(".mean"), m, {}) && load(p + QStringLiteral(".var"), v, {});
            break;
        }
        default:
            break;
        }
        if (!ok) {
            if (error)
                *error = QStringLiteral("graph has no matching weights for layer %1 (%2)")
                             .arg(p, layerKindName(spec->layers[i].kind));
            return nullptr;
        }
    }
    return t;
}

} // namespace tinyml::training
