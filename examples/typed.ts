// TypeScript (strict): a bare two-layer LSTM, as torch.nn.LSTM(3, 5, num_layers=2), forward and backward.
import { LSTM, tensor, type Tensor } from "rnnlab";

const lstm = new LSTM({ inputSize: 3, hiddenSize: 5, numLayers: 2, seed: 1 });
const data = Array.from({ length: 4 * 2 * 3 }, (_, i) => Math.sin(i));
const x: Tensor = tensor(data, [4, 2, 3]); // (T, B, I)
const cache = lstm.forward(x);
const { dx } = lstm.backward(cache, cache.output.data); // gradients of 0.5 * sum(output^2)
console.log(`output [${cache.output.shape}], h_n [${cache.hNTensor.shape}], dx [${dx.shape}]`);
