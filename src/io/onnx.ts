// ONNX export: a LanguageModel or a recurrent stack as an ONNX ModelProto, for serving with ONNX
// Runtime (or any ONNX runtime). Works in Node and browsers: it builds the graph in memory and
// returns the bytes; writing them to a file is the caller's business (io/files.ts in Node).
//
// Serialisation: protobufjs (its reflection build, "light"), with the part of onnx/onnx.proto that
// a model needs written below as a JSON descriptor (field numbers and types as in onnx.proto).
//
// Graph of exportRecurrentOnnx (PyTorch's layout, T = steps, B = batch, dynamic):
//   inputs   x  float32 (T, B, I); h0 float32 (L*D, B, H); c0 float32 (L*D, B, H) (LSTM only)
//   outputs  y  float32 (T, B, D*H); h_n float32 (L*D, B, H); c_n float32 (L*D, B, H) (LSTM only)
// Graph of exportOnnx (a LanguageModel, D = 1):
//   inputs   tokens int64 (T, B); h0 float32 (L, B, H); c0 float32 (L, B, H) (LSTM only)
//   outputs  logits float32 (T, B, V); h_n float32 (L, B, H); c_n float32 (L, B, H) (LSTM only)
// With `initialStates: false`, h0 and c0 are not inputs and every layer starts from zeros.
//
// One ONNX RNN/LSTM/GRU node per layer, both directions in one node. Per layer l, initializers
// `rnn.W_l{l}` (D, G, I_l), `rnn.R_l{l}` (D, G, H) and, when the layer has biases, `rnn.B_l{l}`
// (D, 2G) = b_ih ‖ b_hh (without biases the input is omitted: ONNX then uses zeros). Gate blocks
// are reordered from PyTorch's to ONNX's: LSTM i,f,g,o -> i,o,f,c; GRU r,z,n -> z,r,h with
// linear_before_reset = 1 (PyTorch's GRU applies the reset gate to W_hn h + b_hn). Elman relu
// layers carry activations = ["Relu"] per direction. A layer's Y (T, D, B, H) becomes (T, B, D*H)
// by Transpose [0, 2, 1, 3] and Reshape [0, 0, -1]; the per-layer Y_h (D, B, H) are concatenated
// on axis 0 into h_n (layer-major, forward before reverse, as PyTorch); h0 is sliced per layer.
// The language model: Gather(embedding.weight, tokens) -> the stack -> MatMul(head.weight_t) ->
// Add(head.bias). head.weight_t (H, V) is an initializer, or with tied weights a Transpose of
// embedding.weight (the one tensor is stored once).
// Weights are stored as float32 whatever the model's dtype (float64 models are rounded).

import protobuf from "protobufjs/light.js";
import type { LanguageModel } from "../nn/language-model.js";
import type { Recurrent } from "../nn/recurrent.js";
import { cellOfMode } from "../nn/cells.js";
import type { Float } from "../tensor/dtype.js";

/** Options of exportOnnx and exportRecurrentOnnx. */
export interface OnnxExportOptions {
  /** ONNX operator set of the default domain, 14..23. Default 17 (IR version 8). */
  opset?: number;
  /** ModelProto.producer_name. Default "rnnlab". */
  producer?: string;
  /** ModelProto.producer_version, e.g. the package version. Default: not set. */
  producerVersion?: string;
  /**
   * Make the initial states graph inputs h0 (and c0), each (L*D, B, H). Default true: then they are
   * required (feed zeros for a fresh start). With false, the graph has no state inputs and starts
   * every sequence from zeros.
   */
  initialStates?: boolean;
  /** More ModelProto.metadata_props (string to string), e.g. the vocabulary; rnnlab's own keys win. */
  metadata?: Record<string, string>;
}

/** The lowest and highest opsets exportOnnx accepts. */
export const ONNX_OPSET_RANGE = { min: 14, max: 23 } as const;
/** The default opset. */
export const ONNX_DEFAULT_OPSET = 17;

// --- the ONNX schema (onnx/onnx.proto, proto2, package onnx), the messages a model needs ---

const rep = (type: string, id: number, packed?: boolean) =>
  packed ? { rule: "repeated", type, id, options: { packed: true } } : { rule: "repeated", type, id };
const opt = (type: string, id: number) => ({ type, id });

const ONNX_SCHEMA = {
  nested: {
    onnx: {
      nested: {
        AttributeProto: {
          fields: {
            name: opt("string", 1),
            ref_attr_name: opt("string", 21),
            doc_string: opt("string", 13),
            type: opt("AttributeType", 20),
            f: opt("float", 2),
            i: opt("int64", 3),
            s: opt("bytes", 4),
            t: opt("TensorProto", 5),
            g: opt("GraphProto", 6),
            floats: rep("float", 7),
            ints: rep("int64", 8),
            strings: rep("bytes", 9),
            tensors: rep("TensorProto", 10),
            graphs: rep("GraphProto", 11),
          },
          nested: {
            AttributeType: {
              values: {
                UNDEFINED: 0,
                FLOAT: 1,
                INT: 2,
                STRING: 3,
                TENSOR: 4,
                GRAPH: 5,
                SPARSE_TENSOR: 11,
                FLOATS: 6,
                INTS: 7,
                STRINGS: 8,
                TENSORS: 9,
                GRAPHS: 10,
                SPARSE_TENSORS: 12,
              },
            },
          },
        },
        ValueInfoProto: { fields: { name: opt("string", 1), type: opt("TypeProto", 2), doc_string: opt("string", 3) } },
        NodeProto: {
          fields: {
            input: rep("string", 1),
            output: rep("string", 2),
            name: opt("string", 3),
            op_type: opt("string", 4),
            domain: opt("string", 7),
            attribute: rep("AttributeProto", 5),
            doc_string: opt("string", 6),
          },
        },
        ModelProto: {
          fields: {
            ir_version: opt("int64", 1),
            opset_import: rep("OperatorSetIdProto", 8),
            producer_name: opt("string", 2),
            producer_version: opt("string", 3),
            domain: opt("string", 4),
            model_version: opt("int64", 5),
            doc_string: opt("string", 6),
            graph: opt("GraphProto", 7),
            metadata_props: rep("StringStringEntryProto", 14),
          },
        },
        StringStringEntryProto: { fields: { key: opt("string", 1), value: opt("string", 2) } },
        GraphProto: {
          fields: {
            node: rep("NodeProto", 1),
            name: opt("string", 2),
            initializer: rep("TensorProto", 5),
            doc_string: opt("string", 10),
            input: rep("ValueInfoProto", 11),
            output: rep("ValueInfoProto", 12),
            value_info: rep("ValueInfoProto", 13),
          },
        },
        TensorProto: {
          fields: {
            dims: rep("int64", 1),
            data_type: opt("int32", 2),
            float_data: rep("float", 4, true),
            int32_data: rep("int32", 5, true),
            string_data: rep("bytes", 6),
            int64_data: rep("int64", 7, true),
            name: opt("string", 8),
            doc_string: opt("string", 12),
            raw_data: opt("bytes", 9),
            double_data: rep("double", 10, true),
            uint64_data: rep("uint64", 11, true),
          },
        },
        TensorShapeProto: {
          fields: { dim: rep("Dimension", 1) },
          nested: {
            Dimension: {
              oneofs: { value: { oneof: ["dim_value", "dim_param"] } },
              fields: { dim_value: opt("int64", 1), dim_param: opt("string", 2), denotation: opt("string", 3) },
            },
          },
        },
        TypeProto: {
          oneofs: { value: { oneof: ["tensor_type"] } },
          fields: { tensor_type: opt("Tensor", 1), denotation: opt("string", 6) },
          nested: { Tensor: { fields: { elem_type: opt("int32", 1), shape: opt("TensorShapeProto", 2) } } },
        },
        OperatorSetIdProto: { fields: { domain: opt("string", 1), version: opt("int64", 2) } },
      },
    },
  },
};

let modelType: protobuf.Type | null = null;
function modelProto(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType("onnx.ModelProto");
  return modelType;
}

// --- plain objects of the messages (snake_case field names, as onnx.proto) ---

/** TensorProto.DataType values used here. */
const FLOAT = 1;
const INT64 = 7;
/** AttributeProto.AttributeType values used here. */
const ATTR = { INT: 2, STRING: 3, INTS: 7, STRINGS: 8 } as const;

/** An ONNX TensorProto as a plain object. */
export interface OnnxTensor {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}
interface OnnxAttribute {
  name: string;
  type: number;
  i?: number;
  s?: Uint8Array;
  ints?: number[];
  strings?: Uint8Array[];
}
interface OnnxNode {
  op_type: string;
  name: string;
  input: string[];
  output: string[];
  attribute: OnnxAttribute[];
}
interface OnnxValueInfo {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: ({ dim_value: number } | { dim_param: string })[] } } };
}

const utf8 = new TextEncoder();

/** Row-major float32 little-endian bytes of `values`, whatever their array type. */
function float32Bytes(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(values.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i], true);
  return out;
}

function int64Bytes(values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return out;
}

/** Builds one graph: nodes in topological order (the order they are added), initializers, inputs, outputs. */
class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  readonly inputs: OnnxValueInfo[] = [];
  readonly outputs: OnnxValueInfo[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`onnx export: the value name "${name}" is used twice`);
    this.names.add(name);
    return name;
  }

  floats(name: string, dims: number[], values: ArrayLike<number>): string {
    const n = dims.reduce((a, b) => a * b, 1);
    if (values.length !== n) throw new Error(`onnx export: ${name} has ${values.length} values for shape [${dims}]`);
    this.initializers.push({ name: this.claim(name), dims, data_type: FLOAT, raw_data: float32Bytes(values) });
    return name;
  }

  int64s(name: string, values: number[]): string {
    this.initializers.push({ name: this.claim(name), dims: [values.length], data_type: INT64, raw_data: int64Bytes(values) });
    return name;
  }

  input(name: string, elemType: number, shape: (number | string)[]): string {
    this.inputs.push(valueInfo(this.claim(name), elemType, shape));
    return name;
  }

  output(name: string, elemType: number, shape: (number | string)[]): void {
    this.outputs.push(valueInfo(name, elemType, shape));
  }

  /** Adds a node; returns its output names. Empty input names stand for omitted optional inputs. */
  node(op: string, input: string[], output: string[], attribute: OnnxAttribute[] = []): string[] {
    while (input.length > 0 && input[input.length - 1] === "") input.pop();
    for (const o of output) this.claim(o);
    this.nodes.push({ op_type: op, name: `${op}_${this.counter++}`, input, output, attribute });
    return output;
  }
}

function valueInfo(name: string, elemType: number, shape: (number | string)[]): OnnxValueInfo {
  return {
    name,
    type: { tensor_type: { elem_type: elemType, shape: { dim: shape.map((d) => (typeof d === "number" ? { dim_value: d } : { dim_param: d })) } } },
  };
}

const attrInt = (name: string, i: number): OnnxAttribute => ({ name, type: ATTR.INT, i });
const attrInts = (name: string, ints: number[]): OnnxAttribute => ({ name, type: ATTR.INTS, ints });
const attrString = (name: string, s: string): OnnxAttribute => ({ name, type: ATTR.STRING, s: utf8.encode(s) });
const attrStrings = (name: string, s: string[]): OnnxAttribute => ({ name, type: ATTR.STRINGS, strings: s.map((x) => utf8.encode(x)) });

/** The IR version that goes with an opset (onnx/docs/Versioning.md: 14 -> 7, 15..18 -> 8, 19..20 -> 9, 21..22 -> 10, 23 -> 11). */
function irVersionFor(opset: number): number {
  return opset <= 14 ? 7 : opset <= 18 ? 8 : opset <= 20 ? 9 : opset <= 22 ? 10 : 11;
}

function checkOptions(o: OnnxExportOptions): { opset: number; producer: string; initialStates: boolean } {
  const opset = o.opset ?? ONNX_DEFAULT_OPSET;
  if (!Number.isInteger(opset) || opset < ONNX_OPSET_RANGE.min || opset > ONNX_OPSET_RANGE.max) {
    throw new RangeError(`onnx export: opset must be a whole number in [${ONNX_OPSET_RANGE.min}, ${ONNX_OPSET_RANGE.max}], got ${o.opset}`);
  }
  return { opset, producer: o.producer ?? "rnnlab", initialStates: o.initialStates ?? true };
}

function serialise(g: GraphBuilder, graphName: string, o: OnnxExportOptions, doc: string, metadata: Record<string, string>): Uint8Array {
  const { opset, producer } = checkOptions(o);
  const model = {
    ir_version: irVersionFor(opset),
    opset_import: [{ domain: "", version: opset }],
    producer_name: producer,
    ...(o.producerVersion !== undefined ? { producer_version: o.producerVersion } : {}),
    doc_string: doc,
    graph: { node: g.nodes, name: graphName, initializer: g.initializers, input: g.inputs, output: g.outputs },
    metadata_props: Object.entries({ ...(o.metadata ?? {}), ...metadata }).map(([key, value]) => ({ key, value })),
  };
  const type = modelProto();
  const problem = type.verify(model);
  if (problem) throw new Error(`onnx export: invalid ModelProto: ${problem}`);
  const bytes = type.encode(model).finish();
  // a fresh Uint8Array of its own (protobufjs may hand out a Node Buffer in a shared pool)
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

// --- the recurrent stack ---

/** Copies the gate blocks of a (G, cols) PyTorch matrix (or a (G) vector, cols = 1) into ONNX order (nn/cells.ts) at `into[offset..]`. */
function reorderGates(into: Float32Array, offset: number, src: Float, order: readonly number[], H: number, cols: number): void {
  const block = H * cols;
  order.forEach((from, to) => {
    for (let j = 0; j < block; j++) into[offset + to * block + j] = src[from * block + j];
  });
}

/**
 * Adds the nodes of a recurrent stack reading x (T, B, I_0); returns the names of its output
 * (T, B, D*H) and of h_n and c_n (L*D, B, H). Names the final values `names`.
 */
function addRecurrent(g: GraphBuilder, rnn: Recurrent, x: string, h0: string | null, c0: string | null, names: { y: string; hN: string; cN: string }): void {
  const { mode, numLayers: L, numDirections: D, hiddenSize: H } = rnn;
  const lstm = mode === "LSTM";
  const { gateOrder: order, op } = cellOfMode(mode).onnx;
  const G = order.length * H;
  const toTBF = g.int64s("rnn.shape_T_B_F", [0, 0, -1]);
  const axis0 = L > 1 && h0 ? g.int64s("rnn.axes_0", [0]) : "";
  const yhs: string[] = [];
  const ycs: string[] = [];
  let input = x;
  for (let l = 0; l < L; l++) {
    const I = rnn.layerInputSize(l);
    const W = new Float32Array(D * G * I);
    const R = new Float32Array(D * G * H);
    const bias = rnn.params[l * D].biasIh !== null;
    const Bv = bias ? new Float32Array(D * 2 * G) : null;
    for (let d = 0; d < D; d++) {
      const p = rnn.params[l * D + d];
      reorderGates(W, d * G * I, p.weightIh.value, order, H, I);
      reorderGates(R, d * G * H, p.weightHh.value, order, H, H);
      if (Bv) {
        reorderGates(Bv, d * 2 * G, p.biasIh!.value, order, H, 1);
        reorderGates(Bv, d * 2 * G + G, p.biasHh!.value, order, H, 1);
      }
    }
    const w = g.floats(`rnn.W_l${l}`, [D, G, I], W);
    const r = g.floats(`rnn.R_l${l}`, [D, G, H], R);
    const b = Bv ? g.floats(`rnn.B_l${l}`, [D, 2 * G], Bv) : "";
    // this layer's slice of the initial states: rows l*D .. l*D + D - 1
    const slice = (s: string | null, tag: string): string => {
      if (!s) return "";
      if (L === 1) return s;
      const starts = g.int64s(`rnn.${tag}_start_l${l}`, [l * D]);
      const ends = g.int64s(`rnn.${tag}_end_l${l}`, [(l + 1) * D]);
      return g.node("Slice", [s, starts, ends, axis0], [`rnn.${tag}_l${l}`])[0];
    };
    const h0l = slice(h0, "h0");
    const c0l = lstm ? slice(c0, "c0") : "";
    const last = l === L - 1;
    const yh = L === 1 ? names.hN : `rnn.Y_h_l${l}`;
    const yc = L === 1 ? names.cN : `rnn.Y_c_l${l}`;
    const attrs: OnnxAttribute[] = [attrInt("hidden_size", H), attrString("direction", D === 2 ? "bidirectional" : "forward")];
    if (mode === "RNN_RELU") attrs.push(attrStrings("activations", Array<string>(D).fill("Relu")));
    if (mode === "RNN_TANH") attrs.push(attrStrings("activations", Array<string>(D).fill("Tanh")));
    if (mode === "GRU") attrs.push(attrInt("linear_before_reset", 1));
    const [y] = g.node(op, [input, w, r, b, "", h0l, c0l], lstm ? [`rnn.Y_l${l}`, yh, yc] : [`rnn.Y_l${l}`, yh], attrs);
    yhs.push(yh);
    if (lstm) ycs.push(yc);
    // Y (T, D, B, H) -> (T, B, D, H) -> (T, B, D*H)
    const [yt] = g.node("Transpose", [y], [`rnn.Y_l${l}_TBDH`], [attrInts("perm", [0, 2, 1, 3])]);
    [input] = g.node("Reshape", [yt, toTBF], [last ? names.y : `rnn.out_l${l}`]);
  }
  if (L > 1) {
    g.node("Concat", yhs, [names.hN], [attrInt("axis", 0)]);
    if (lstm) g.node("Concat", ycs, [names.cN], [attrInt("axis", 0)]);
  }
}

function stateInputs(g: GraphBuilder, rnn: Recurrent, on: boolean): { h0: string | null; c0: string | null } {
  if (!on) return { h0: null, c0: null };
  const shape = [rnn.numLayers * rnn.numDirections, "B", rnn.hiddenSize];
  const h0 = g.input("h0", FLOAT, shape);
  const c0 = rnn.mode === "LSTM" ? g.input("c0", FLOAT, shape) : null;
  return { h0, c0 };
}

function stateOutputs(g: GraphBuilder, rnn: Recurrent): void {
  const shape = [rnn.numLayers * rnn.numDirections, "B", rnn.hiddenSize];
  g.output("h_n", FLOAT, shape);
  if (rnn.mode === "LSTM") g.output("c_n", FLOAT, shape);
}

const STATE_DOC = (on: boolean, lstm: boolean) =>
  on ? `Initial states h0${lstm ? " and c0" : ""} (L*D, B, H) are required inputs (zeros for a fresh start).` : "Every sequence starts from zero states.";

/**
 * An ONNX model of a recurrent stack alone, PyTorch's layout: x (T, B, I) float32 → y (T, B, D*H),
 * h_n (L*D, B, H) (and c_n for an LSTM), from the inputs h0 (and c0), each (L*D, B, H), unless
 * `initialStates: false`. T and B are dynamic. Dropout is not exported (inference); every row runs
 * all T steps. Returns the ModelProto bytes.
 * @example
 * const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 1 });
 * const bytes = exportRecurrentOnnx(lstm); // inputs x, h0, c0; outputs y, h_n, c_n
 */
export function exportRecurrentOnnx(rnn: Recurrent, options: OnnxExportOptions = {}): Uint8Array {
  const { initialStates } = checkOptions(options);
  // ONNX's LSTM operator has no output projection, and the graph is written time-major
  if (rnn.projSize > 0) throw new RangeError(`onnx export: an LSTM with projSize (${rnn.projSize}) has no ONNX operator (ONNX's LSTM has no projection)`);
  if (rnn.batchFirst)
    throw new RangeError("onnx export: the graph is time-major (T, B, I); export a layer made with batchFirst: false (the weights are the same)");
  const g = new GraphBuilder();
  const x = g.input("x", FLOAT, ["T", "B", rnn.inputSize]);
  const { h0, c0 } = stateInputs(g, rnn, initialStates);
  addRecurrent(g, rnn, x, h0, c0, { y: "y", hN: "h_n", cN: "c_n" });
  g.output("y", FLOAT, ["T", "B", rnn.numDirections * rnn.hiddenSize]);
  stateOutputs(g, rnn);
  const doc = `rnnlab ${rnn.mode} stack, ${rnn.numLayers} layer(s), ${rnn.numDirections} direction(s): x (T, B, I) -> y (T, B, D*H), h_n (L*D, B, H). ${STATE_DOC(initialStates, rnn.mode === "LSTM")}`;
  return serialise(g, "rnnlab_recurrent", options, doc, {
    "rnnlab.mode": rnn.mode,
    "rnnlab.recurrent": JSON.stringify({
      inputSize: rnn.inputSize,
      hiddenSize: rnn.hiddenSize,
      numLayers: rnn.numLayers,
      bidirectional: rnn.numDirections === 2,
      bias: rnn.bias,
    }),
  });
}

/**
 * An ONNX model of a language model: tokens (T, B) int64 → logits (T, B, V) float32, and the final
 * states h_n (L, B, H) (and c_n for an LSTM), from the inputs h0 (and c0), each (L, B, H), unless
 * `initialStates: false`. T and B are dynamic. Dropout is not exported (inference). Returns the
 * ModelProto bytes.
 * @example
 * const lm = new LanguageModel({ vocabSize: 65, embedSize: 32, hiddenSize: 32, cell: "lstm", tieWeights: true });
 * const bytes = exportOnnx(lm); // inputs tokens, h0, c0; outputs logits, h_n, c_n
 */
export function exportOnnx(model: LanguageModel, options: OnnxExportOptions = {}): Uint8Array {
  const { initialStates } = checkOptions(options);
  const { vocabSize: V, embedSize: E, hiddenSize: H } = model.options;
  const rnn = model.rnn;
  const g = new GraphBuilder();
  const tokens = g.input("tokens", INT64, ["T", "B"]);
  const { h0, c0 } = stateInputs(g, rnn, initialStates);
  const emb = g.floats("embedding.weight", [V, E], model.embedding.weight.value);
  const [x] = g.node("Gather", [emb, tokens], ["embedded"], [attrInt("axis", 0)]);
  addRecurrent(g, rnn, x, h0, c0, { y: "rnn.output", hN: "h_n", cN: "c_n" });
  const tied = model.head.weight === model.embedding.weight;
  let headT: string;
  if (tied) {
    [headT] = g.node("Transpose", [emb], ["head.weight_t"], [attrInts("perm", [1, 0])]);
  } else {
    const w = model.head.weight.value; // (V, H) -> (H, V)
    const t = new Float32Array(H * V);
    for (let v = 0; v < V; v++) for (let j = 0; j < H; j++) t[j * V + v] = w[v * H + j];
    headT = g.floats("head.weight_t", [H, V], t);
  }
  const bias = model.head.bias;
  const [mm] = g.node("MatMul", ["rnn.output", headT], [bias ? "head.matmul" : "logits"]);
  if (bias) g.node("Add", [mm, g.floats("head.bias", [V], bias.value)], ["logits"]);
  g.output("logits", FLOAT, ["T", "B", V]);
  stateOutputs(g, rnn);
  const doc = `rnnlab language model (${model.options.cell}, ${rnn.numLayers} layer(s)${tied ? ", tied weights" : ""}): tokens (T, B) int64 -> logits (T, B, V), h_n (L, B, H). ${STATE_DOC(initialStates, rnn.mode === "LSTM")}`;
  return serialise(g, "rnnlab_language_model", options, doc, { "rnnlab.options": JSON.stringify(model.options) });
}

/** An ONNX ModelProto decoded to a plain object (snake_case fields, int64 as numbers, bytes as Uint8Array), for inspection. */
export function decodeOnnx(bytes: Uint8Array): Record<string, unknown> {
  const type = modelProto();
  return type.toObject(type.decode(bytes), { longs: Number, defaults: false, arrays: true }) as Record<string, unknown>;
}
