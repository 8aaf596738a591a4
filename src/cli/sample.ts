// `rnnlab sample --checkpoint F`: text from a trained model, streamed as it is generated.

import { Command } from "commander";
import { readCheckpoint, useCheckpoint } from "../node/checkpoint.js";
import { InputError } from "../node/files.js";
import { generate } from "../nn/generate.js";
import { Rng } from "../tensor/rng.js";
import { defaultPrime, modelFromSnapshot } from "../train/run.js";
import { EOS, WordVocab } from "../data/words.js";
import { intArg, numArg, optionWithDefault } from "./options.js";
import { out } from "./output.js";

interface SampleOpts {
  checkpoint: string;
  length: number;
  temperature: number;
  topK: number;
  prime?: string;
  seed: number;
}

export function sampleCommand(): Command {
  return new Command("sample")
    .description("generate text from a trained model")
    .requiredOption("--checkpoint <file>", "a checkpoint.safetensors or best.safetensors written by rnnlab train")
    .option("--length <n>", "tokens to generate (characters, or words for a word-level model)", intArg(0), 500)
    .addOption(
      optionWithDefault(
        "--temperature <t>",
        "softmax temperature: 1 the model's own distribution, < 1 safer, 0 always the likeliest",
        numArg(0),
        0.8,
        "0.8, as nanoGPT's sample.py",
      ),
    )
    .option("--top-k <k>", "draw only among the k likeliest characters (0: all)", intArg(0), 0)
    .option("--prime <text>", "text to start from (default: a newline)")
    .option("--seed <n>", "seed of the draws (same seed, same text)", intArg(0), 1)
    .action(async (o: SampleOpts) => {
      const snap = readCheckpoint(o.checkpoint);
      const { model, vocab } = useCheckpoint(o.checkpoint, snap, modelFromSnapshot);
      const prime = o.prime ?? defaultPrime(vocab);
      if (prime.length === 0) throw new InputError("--prime needs at least one character");
      if (vocab.kind === "chars") {
        for (const ch of prime) {
          if (!vocab.has(ch))
            throw new InputError(`--prime contains ${JSON.stringify(ch)}, a character the model never saw; use characters of its training text`);
        }
      }
      const primeIds = vocab.encode(prime);
      if (primeIds.length === 0) throw new InputError("--prime needs at least one word");
      if (o.prime !== undefined) out(prime);
      // stream: flush what was generated every 16 characters and at the end
      let pending = "";
      let lineStart = vocab.kind === "words" && (o.prime === undefined || /\n\s*$/.test(prime));
      generate(model, {
        prime: primeIds,
        length: o.length,
        rng: new Rng(o.seed),
        temperature: o.temperature,
        topK: o.topK,
        onToken: (id) => {
          if (vocab instanceof WordVocab) {
            pending += vocab.piece(id, lineStart);
            lineStart = id === vocab.id(EOS);
          } else {
            pending += vocab.tokens[id];
          }
          if (pending.length >= 16) {
            out(pending);
            pending = "";
          }
        },
      });
      out(`${pending}\n`);
    });
}
