// `npm run bench`: every speed measurement, printed as Markdown tables with the machine line.
import { gemmBench } from "./gemm.bench.js";
import { machineLine } from "./harness.js";
import { trainBench } from "./train.bench.js";

console.log(`rnnlab bench: ${machineLine()}`);
gemmBench([128, 256]);
trainBench([128, 256]);
