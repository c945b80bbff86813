#!/usr/bin/env python3
"""Prints facts about a .tflite file read by walking the flatbuffer by hand (struct only, no
flatbuffers library, no generated code): the numbers test_tflite_import.cpp expects of the
MLPerf Tiny reference models were taken from this script's output, so the test compares the
importer with an independent reading of the same bytes.

Slots follow the TFLite schema: Model{version, operator_codes, subgraphs, description, buffers},
SubGraph{tensors, inputs, outputs, operators}, Tensor{shape, type, buffer, name, quantization},
QuantizationParameters{min, max, scale, zero_point, details(2 slots), quantized_dimension},
Operator{opcode_index, inputs, outputs, builtin_options_type, builtin_options}, the options
tables Conv2DOptions{padding, stride_w, stride_h, fused_activation_function, dilation_w,
dilation_h}, DepthwiseConv2DOptions{padding, stride_w, stride_h, depth_multiplier,
fused_activation_function, dilation_w, dilation_h}, Pool2DOptions{padding, stride_w, stride_h,
filter_width, filter_height, fused_activation_function}, FullyConnectedOptions{activation},
AddOptions{activation}; OperatorCode{deprecated_builtin_code, custom_code,
version, builtin_code}, Buffer{data}.

usage: tflite_raw_facts.py FILE.tflite > fixtures/NAME.facts
"""
import struct
import sys


class Table:
    def __init__(self, buf, pos):
        self.buf, self.pos = buf, pos
        vt = pos - struct.unpack_from('<i', buf, pos)[0]
        self.vt_len = struct.unpack_from('<H', buf, vt)[0]
        self.vt = vt

    def off(self, slot):
        o = 4 + 2 * slot
        if o >= self.vt_len:
            return 0
        return struct.unpack_from('<H', self.buf, self.vt + o)[0]

    def scalar(self, slot, fmt, default=0):
        o = self.off(slot)
        return struct.unpack_from('<' + fmt, self.buf, self.pos + o)[0] if o else default

    def ref(self, slot):
        o = self.off(slot)
        if not o:
            return None
        p = self.pos + o
        return p + struct.unpack_from('<I', self.buf, p)[0]

    def vector(self, slot, fmt):
        p = self.ref(slot)
        if p is None:
            return []
        n = struct.unpack_from('<I', self.buf, p)[0]
        size = struct.calcsize('<' + fmt)
        return [struct.unpack_from('<' + fmt, self.buf, p + 4 + i * size)[0] for i in range(n)]

    def tables(self, slot):
        p = self.ref(slot)
        if p is None:
            return []
        n = struct.unpack_from('<I', self.buf, p)[0]
        out = []
        for i in range(n):
            e = p + 4 + 4 * i
            out.append(Table(self.buf, e + struct.unpack_from('<I', self.buf, e)[0]))
        return out

    def string(self, slot):
        p = self.ref(slot)
        if p is None:
            return ''
        n = struct.unpack_from('<I', self.buf, p)[0]
        return self.buf[p + 4:p + 4 + n].decode()

    def table(self, slot):
        p = self.ref(slot)
        return Table(self.buf, p) if p is not None else None


def main(path):
    buf = open(path, 'rb').read()
    model = Table(buf, struct.unpack_from('<I', buf, 0)[0])
    print('identifier', buf[4:8].decode(), 'version', model.scalar(0, 'I'))
    codes = [(max(c.scalar(0, 'b'), c.scalar(3, 'i')), c.scalar(2, 'i', 1)) for c in model.tables(1)]
    buffers = model.tables(4)
    sg = model.tables(2)[0]
    tensors = sg.tables(0)
    print('inputs', sg.vector(1, 'i'), 'outputs', sg.vector(2, 'i'), 'tensors', len(tensors))
    for i, op in enumerate(sg.tables(3)):
        code, version = codes[op.scalar(0, 'I')]
        o = op.table(4)
        opts = ''
        if o and code == 3:      # CONV_2D: padding (0 SAME, 1 VALID), stride h w, activation, dilation h w
            opts = 'pad %d stride %d %d act %d dil %d %d' % (o.scalar(0, 'b'), o.scalar(2, 'i'), o.scalar(1, 'i'),
                                                              o.scalar(3, 'b'), o.scalar(5, 'i', 1), o.scalar(4, 'i', 1))
        elif o and code == 4:    # DEPTHWISE_CONV_2D
            opts = 'pad %d stride %d %d act %d dil %d %d' % (o.scalar(0, 'b'), o.scalar(2, 'i'), o.scalar(1, 'i'),
                                                              o.scalar(4, 'b'), o.scalar(6, 'i', 1), o.scalar(5, 'i', 1))
        elif o and code in (1, 17):   # pools: padding, stride h w, filter h w, activation
            opts = 'pad %d stride %d %d filter %d %d act %d' % (o.scalar(0, 'b'), o.scalar(2, 'i'), o.scalar(1, 'i'),
                                                                o.scalar(4, 'i'), o.scalar(3, 'i'), o.scalar(5, 'b'))
        elif o and code in (0, 9):    # ADD, FULLY_CONNECTED: activation
            opts = 'act %d' % o.scalar(0, 'b')
        print('op', i, 'code', code, 'v', version, 'in', op.vector(1, 'i'), 'out', op.vector(2, 'i'),
              'options', opts or '-')
    for i, t in enumerate(tensors):
        q = t.table(4)
        scales = q.vector(2, 'f') if q else []
        zps = q.vector(3, 'q') if q else []
        data = buffers[t.scalar(2, 'I')].vector(0, 'B') if t.scalar(2, 'I') else []
        head = ''
        if data and t.scalar(1, 'b') == 2:
            head = ' ' + ' '.join(str(v) for v in struct.unpack_from('<%di' % min(3, len(data) // 4), bytes(data), 0))
        elif data:
            head = ' ' + ' '.join(str(v - 256 if v > 127 else v) for v in data[:3])
        print('tensor', i, 'shape', t.vector(0, 'i'), 'type', t.scalar(1, 'b'), 'bytes', len(data),
              'nscales', len(scales), 'scale0', scales[0].hex() if scales else '-',
              'zp0', zps[0] if zps else '-', 'qdim', q.scalar(6, 'i') if q else '-', 'data' + (head or ' -'),
              'name', t.string(3))


if __name__ == '__main__':
    main(sys.argv[1])
