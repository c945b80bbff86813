#include "ArenaPlanner.h"

#include <algorithm>
#include <functional>
#include <numeric>

namespace tinyml::deploy {

using model::Graph;
using model::OpType;

namespace {

bool fail(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return false;
}

qint64 alignUp(qint64 v, qint64 a) { return (v + a - 1) / a * a; }

struct Buffers {
    QVector<int> parent;
    int find(int i)
    {
        while (parent[i] != i)
            i = parent[i] = parent[parent[i]];
        return i;
    }
};

} // namespace

std::optional<ArenaPlan> planArena(const Graph &graph, QString *error, const ArenaPlanOptions &options)
{
    const int alignment = options.alignment;
    if (alignment < 1 || (alignment & (alignment - 1)) != 0) {
        fail(error, QStringLiteral("arena alignment %1 is not a power of two").arg(alignment));
        return std::nullopt;
    }
    const int tensorCount = int(graph.tensors.size());
    const int steps = int(graph.nodes.size());
    ArenaPlan plan;
    plan.alignment = alignment;
    plan.offsets.fill(-1, tensorCount);
    plan.bytes.fill(0, tensorCount);
    plan.firstStep.fill(-1, tensorCount);
    plan.lastStep.fill(-1, tensorCount);
    plan.buffer.fill(-1, tensorCount);

    auto checkIndex = [&](int t, const QString &what) {
        return t >= 0 && t < tensorCount
               ? true
               : fail(error, QStringLiteral("%1 refers to tensor %2 of %3").arg(what).arg(t).arg(tensorCount));
    };
    auto activation = [&](int t) { return !graph.tensors[t].isConstant(); };

    // Lifetimes.
    for (int t : graph.inputs) {
        if (!checkIndex(t, QStringLiteral("graph input")))
            return std::nullopt;
        plan.firstStep[t] = 0;
        plan.lastStep[t] = 0;
    }
    for (int s = 0; s < steps; ++s) {
        const model::Node &n = graph.nodes[s];
        const QString where = QStringLiteral("node %1 \"%2\"").arg(s).arg(n.name);
        for (int t : n.inputs) {
            if (!checkIndex(t, where))
                return std::nullopt;
            if (!activation(t))
                continue;
            if (plan.firstStep[t] < 0) {
                fail(error, QStringLiteral("tensor \"%1\" is read by %2 before any node produces it")
                                .arg(graph.tensors[t].name, where));
                return std::nullopt;
            }
            plan.lastStep[t] = std::max(plan.lastStep[t], s);
        }
        for (int t : n.outputs) {
            if (!checkIndex(t, where))
                return std::nullopt;
            if (plan.firstStep[t] >= 0) {
                fail(error, QStringLiteral("tensor \"%1\" is written twice (again by %2)")
                                .arg(graph.tensors[t].name, where));
                return std::nullopt;
            }
            plan.firstStep[t] = plan.lastStep[t] = s;
        }
    }
    for (int t : graph.outputs) {
        if (!checkIndex(t, QStringLiteral("graph output")))
            return std::nullopt;
        if (plan.firstStep[t] < 0) {
            fail(error, QStringLiteral("graph output \"%1\" is never produced").arg(graph.tensors[t].name));
            return std::nullopt;
        }
        plan.lastStep[t] = std::max(0, steps - 1);
    }
    for (int t = 0; t < tensorCount; ++t) {
        if (plan.firstStep[t] < 0 || !activation(t))
            continue;
        const model::TensorDesc &desc = graph.tensors[t];
        const qint64 elements = desc.elementCount();
        const int size = dtypeSize(desc.dtype);
        if (elements <= 0 || size <= 0) {
            fail(error, QStringLiteral("tensor \"%1\" has no known shape or dtype size").arg(desc.name));
            return std::nullopt;
        }
        plan.bytes[t] = elements * size;
    }

    // Alias groups.
    Buffers groups;
    groups.parent.resize(tensorCount);
    std::iota(groups.parent.begin(), groups.parent.end(), 0);
    QVector<int> groupFirst = plan.firstStep, groupLast = plan.lastStep;
    QVector<bool> groupHoldsOutput(tensorCount, false);
    for (int t : graph.outputs)
        groupHoldsOutput[t] = true;
    auto merge = [&](int into, int other) {
        const int a = groups.find(into), b = groups.find(other);
        if (a == b)
            return;
        groups.parent[b] = a;
        groupFirst[a] = std::min(groupFirst[a], groupFirst[b]);
        groupLast[a] = std::max(groupLast[a], groupLast[b]);
        groupHoldsOutput[a] = groupHoldsOutput[a] || groupHoldsOutput[b];
    };
    if (options.inPlace) {
        for (int s = 0; s < steps; ++s) {
            const model::Node &n = graph.nodes[s];
            if (n.outputs.size() != 1 || n.inputs.isEmpty())
                continue;
            const int y = n.outputs[0];
            if (!activation(y))
                continue;
            if (n.op == OpType::Reshape) {
                if (activation(n.inputs[0]) && plan.bytes[n.inputs[0]] == plan.bytes[y])
                    merge(n.inputs[0], y);
                continue;
            }
            const bool elementwise = n.op == OpType::Add || n.op == OpType::Relu
                                     || n.op == OpType::Relu6 || n.op == OpType::Clip;
            if (!elementwise)
                continue;
            for (int x : n.inputs) {
                if (!activation(x) || plan.bytes[x] != plan.bytes[y])
                    continue;
                const int g = groups.find(x);
                // The input's bytes are free after this node only if nothing sharing them is
                // read later or must survive as a graph output.
                if (groupLast[g] == s && !groupHoldsOutput[g]) {
                    merge(x, y);
                    break;
                }
            }
        }
    }

    struct Buf { int root; qint64 size; int first, last; qint64 offset = -1; };
    QVector<Buf> bufs;
    QVector<int> bufOfRoot(tensorCount, -1);
    for (int t = 0; t < tensorCount; ++t) {
        if (plan.firstStep[t] < 0 || !activation(t))
            continue;
        const int r = groups.find(t);
        if (bufOfRoot[r] < 0) {
            bufOfRoot[r] = int(bufs.size());
            bufs.append({r, 0, groupFirst[r], groupLast[r]});
        }
        Buf &b = bufs[bufOfRoot[r]];
        b.size = std::max(b.size, alignUp(plan.bytes[t], alignment));
        plan.buffer[t] = bufOfRoot[r];
    }

    // Greedy placement in one order: each buffer at the lowest aligned offset that overlaps no
    // placed buffer with an intersecting lifetime. Returns the arena end; fills offsets.
    auto place = [&](const QVector<int> &order, QVector<qint64> *offsets) {
        offsets->fill(-1, bufs.size());
        qint64 end = 0;
        QVector<int> placed;
        QVector<std::pair<qint64, qint64>> busy;   // [begin, end) of conflicting buffers
        for (int i : order) {
            const Buf &b = bufs[i];
            busy.clear();
            for (int j : placed)
                if (bufs[j].first <= b.last && b.first <= bufs[j].last)
                    busy.append({(*offsets)[j], (*offsets)[j] + bufs[j].size});
            std::sort(busy.begin(), busy.end());
            qint64 offset = 0;
            for (const auto &[begin, busyEnd] : busy) {
                if (offset + b.size <= begin)
                    break;
                offset = std::max(offset, alignUp(busyEnd, alignment));
            }
            (*offsets)[i] = offset;
            placed.append(i);
            end = std::max(end, offset + b.size);
        }
        return end;
    };
    for (int s = 0; s < std::max(1, steps); ++s) {
        qint64 live = 0;
        for (const Buf &b : bufs)
            if (b.first <= s && s <= b.last)
                live += b.size;
        plan.lowerBound = std::max(plan.lowerBound, live);
    }
    // Orders tried, the first smallest arena wins (so a plan the first order already makes
    // optimal never changes): largest first (ties: earlier first use); by first use (ties:
    // larger first) — chains whose big input dies early pack to the bound this way where
    // size order does not (MobileNetV1's 96x96x3 input, 48x48x8 and 48x48x16 maps); longest
    // lifetime first; size x lifetime first. Stops at the lower bound.
    using Less = std::function<bool(const Buf &, const Buf &)>;
    const Less orders[] = {
        [](const Buf &a, const Buf &b) { return a.size != b.size ? a.size > b.size : a.first < b.first; },
        [](const Buf &a, const Buf &b) { return a.first != b.first ? a.first < b.first : a.size > b.size; },
        [](const Buf &a, const Buf &b) {
            const int la = a.last - a.first, lb = b.last - b.first;
            return la != lb ? la > lb : (a.size != b.size ? a.size > b.size : a.first < b.first);
        },
        [](const Buf &a, const Buf &b) {
            const qint64 ka = a.size * (a.last - a.first + 1), kb = b.size * (b.last - b.first + 1);
            return ka != kb ? ka > kb : (a.size != b.size ? a.size > b.size : a.first < b.first);
        },
    };
    QVector<qint64> best, tried;
    for (const Less &less : orders) {
        QVector<int> order(bufs.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return less(bufs[a], bufs[b]); });
        const qint64 end = place(order, &tried);
        if (best.isEmpty() || end < plan.arenaBytes) {
            best = tried;
            plan.arenaBytes = end;
        }
        if (plan.arenaBytes <= plan.lowerBound)
            break;
    }
    for (int i = 0; i < bufs.size(); ++i)
        bufs[i].offset = best[i];
    for (int t = 0; t < tensorCount; ++t)
        if (plan.buffer[t] >= 0)
            plan.offsets[t] = bufs[plan.buffer[t]].offset;

    return plan;
}

} // namespace tinyml::deploy
