// Runs before every test file: lets Node 20 compile WebAssembly relaxed SIMD, as the command
// line does at its start, so the tests run the kernels' fused multiply-add build that users get
// (RNNLAB_KERNELS=wasm-exact and the tests that name the exact build still run the exact one).
import { allowRelaxedSimd } from "../src/node/relaxed-simd.js";

allowRelaxedSimd();
