// The recurrent cells rnnlab has, in one table: every fact about a cell that code elsewhere needs.
// Its name in configs and on the command line, PyTorch's class and gate order, the gate count
// (G = gates * H), how many state tensors it carries, the ONNX operator and the order ONNX wants
// its gate blocks in, and the blocks of W_hh whose spectra the diagnostics read, each with γ, the
// bound of its nonlinearity's derivative (1 for tanh and relu, 1/4 for the sigmoid).
// A new cell is a row here plus its step forward and backward (the fused kernels in tensor/, the
// time loop in recurrent.ts); ARCHITECTURE.md lists the rest.

/** A cell's name in configs, checkpoints and on the command line. */
export type CellName = "rnn" | "lstm" | "gru";

/** The cell a recurrent layer runs, in PyTorch's `mode` spelling (the Elman RNN's nonlinearity included). */
export type RecurrentMode = "RNN_TANH" | "RNN_RELU" | "LSTM" | "GRU";

/** What the rest of rnnlab knows about a cell. */
export interface CellSpec {
  name: CellName;
  /** In words, for messages and reports. */
  title: string;
  /** torch.nn's class: nn.RNN, nn.LSTM, nn.GRU. */
  pytorch: "RNN" | "LSTM" | "GRU";
  /** Gate blocks of W_ih and W_hh in PyTorch's order: G = gates.length * H. */
  gates: readonly string[];
  /** State tensors carried between steps: [h] or [h, c]. */
  states: readonly ("h" | "c")[];
  /** The ONNX operator, and for each ONNX gate slot the PyTorch block it takes. */
  onnx: { op: "RNN" | "LSTM" | "GRU"; gateOrder: readonly number[] };
  /** The W_hh blocks the spectra read, in PyTorch's row order, with γ of their nonlinearity. */
  spectra: readonly { block: string; gamma: number }[];
}

/** The cells rnnlab has, by name: the registry that models, checkpoints, ONNX export and analysis read (adding a cell starts here). */
export const CELLS: Readonly<Record<CellName, CellSpec>> = {
  rnn: {
    name: "rnn",
    title: "Elman RNN",
    pytorch: "RNN",
    gates: ["h"],
    states: ["h"],
    onnx: { op: "RNN", gateOrder: [0] },
    spectra: [{ block: "hh", gamma: 1 }],
  },
  lstm: {
    name: "lstm",
    title: "LSTM",
    pytorch: "LSTM",
    gates: ["i", "f", "g", "o"],
    states: ["h", "c"],
    onnx: { op: "LSTM", gateOrder: [0, 3, 1, 2] }, // ONNX i, o, f, c from PyTorch i, f, g, o
    spectra: [
      { block: "i", gamma: 0.25 },
      { block: "f", gamma: 0.25 },
      { block: "g", gamma: 1 },
      { block: "o", gamma: 0.25 },
    ],
  },
  gru: {
    name: "gru",
    title: "GRU",
    pytorch: "GRU",
    gates: ["r", "z", "n"],
    states: ["h"],
    onnx: { op: "GRU", gateOrder: [1, 0, 2] }, // ONNX z, r, h from PyTorch r, z, n
    spectra: [
      { block: "r", gamma: 0.25 },
      { block: "z", gamma: 0.25 },
      { block: "n", gamma: 1 },
    ],
  },
};

/** Every cell's name, in the order the CLI lists them. */
export const CELL_NAMES = Object.keys(CELLS) as readonly CellName[];

/** The cell of a recurrent mode. */
export function cellOfMode(mode: RecurrentMode): CellSpec {
  return CELLS[mode === "LSTM" ? "lstm" : mode === "GRU" ? "gru" : "rnn"];
}

/** The recurrent mode of a cell (the Elman RNN's depends on its nonlinearity). */
export function modeOf(cell: CellName, nonlinearity: "tanh" | "relu" = "tanh"): RecurrentMode {
  return cell === "lstm" ? "LSTM" : cell === "gru" ? "GRU" : nonlinearity === "relu" ? "RNN_RELU" : "RNN_TANH";
}

/** The cell whose gate count is `gates` (what a state dict's W_hh rows over H tell), or undefined. */
export function cellOfGateCount(gates: number): CellSpec | undefined {
  return Object.values(CELLS).find((c) => c.gates.length === gates);
}

/** Whether `s` names a cell. */
export function isCellName(s: unknown): s is CellName {
  return typeof s === "string" && Object.hasOwn(CELLS, s);
}
