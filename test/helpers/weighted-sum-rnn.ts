// The fixtures' loss for a bare recurrent stack, sum(output * R), as a SequenceModel, so the
// truncated-BPTT driver can run it exactly as it runs a language model.

import { RNN, type Float, type RNNCache, type RNNOptions, type SequenceModel } from "../../src/index.js";

export class WeightedSumRNN implements SequenceModel<Float, Float> {
  readonly rnn: RNN;
  private cache: RNNCache | null = null;
  private dOut: Float | null = null;
  private last = { T: 0, R: null as Float | null, lossFrom: 0 };

  constructor(options: RNNOptions) {
    this.rnn = new RNN(options);
  }

  get store() {
    return this.rnn.store;
  }

  createState(B: number): Float[] {
    const s = this.rnn.createCache(1, B).hN; // a fresh (L, B, H) buffer of the right dtype
    return [s];
  }

  /** loss = sum over steps >= lossFrom of output_t * R_t. */
  forward(x: Float, R: Float, T: number, B: number, state0: Float[] | null, lossFrom: number): number {
    if (!this.cache || this.cache.B !== B || this.cache.capacity < T) {
      this.cache = this.rnn.createCache(T, B);
      this.dOut = this.cache.dpre[0].slice(); // any (T, B, H) buffer of the right dtype
    }
    this.rnn.forwardRaw(this.cache, x, T, state0 ? state0[0] : null);
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
    this.rnn.stateAt(this.cache!, t, into[0]);
  }
}
