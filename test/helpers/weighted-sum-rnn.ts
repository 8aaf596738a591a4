// The fixtures' loss for a bare recurrent stack, sum(output * R), as a SequenceModel, so the
// truncated-BPTT driver can run it exactly as it runs a language model.

import { GRU, LSTM, RNN, type Float, type Recurrent, type RecurrentCache, type RNNOptions, type SequenceModel } from "../../src/index.js";

export class WeightedSumRNN implements SequenceModel<Float, Float> {
  readonly rnn: Recurrent;
  private cache: RecurrentCache | null = null;
  private dOut: Float | null = null;
  private last = { T: 0, R: null as Float | null, lossFrom: 0 };

  constructor(options: RNNOptions & { cell?: "RNN" | "LSTM" | "GRU" }) {
    const { cell = "RNN", ...o } = options;
    this.rnn = cell === "LSTM" ? new LSTM(o) : cell === "GRU" ? new GRU(o) : new RNN(o);
  }

  get store() {
    return this.rnn.store;
  }

  createState(B: number): Float[] {
    return this.rnn.createState(B);
  }

  /** loss = sum over steps >= lossFrom of output_t * R_t. */
  forward(x: Float, R: Float, T: number, B: number, state0: Float[] | null, lossFrom: number): number {
    if (!this.cache || this.cache.B !== B || this.cache.capacity < T) {
      this.cache = this.rnn.createCache(T, B);
      this.dOut = this.cache.layers[0].out.slice(); // a (T, B, H) buffer of the right dtype
    }
    this.rnn.forwardRaw(this.cache, x, T, state0, null);
    const out = this.cache.output.data;
    const H = this.rnn.hiddenSize;
    let loss = 0;
    for (let i = lossFrom * B * H; i < T * B * H; i++) loss += out[i] * R[i];
    this.last = { T, R, lossFrom };
    return loss;
  }

  backward(): void {
    const { T, R, lossFrom } = this.last;
    const BH = this.cache!.B * this.rnn.hiddenSize;
    const d = this.dOut!;
    d.fill(0, 0, lossFrom * BH);
    for (let i = lossFrom * BH; i < T * BH; i++) d[i] = R![i];
    this.rnn.backwardRaw(this.cache!, d, null);
  }

  stateAt(t: number, into: Float[]): void {
    this.rnn.stateAt(this.cache!, t, into);
  }
}
