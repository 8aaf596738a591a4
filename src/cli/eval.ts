// `rnnlab eval --checkpoint F FILE`: a trained model's loss on a text, in nats and bits per character.

import { Command } from "commander";
import { loadCorpus } from "../node/corpus.js";
import { readCheckpoint, useCheckpoint } from "../node/checkpoint.js";
import { InputError } from "../node/files.js";
import { evaluateLoss } from "../train/evaluate.js";
import { checkInferenceFits } from "../train/memory.js";
import { modelFromSnapshot } from "../train/run.js";
import { fmtInt } from "./options.js";
import { out } from "./output.js";

export function evalCommand(): Command {
  return new Command("eval")
    .description("report a trained model's loss on a text, in nats and bits per character")
    .argument("<file>", "UTF-8 text file to score")
    .requiredOption("--checkpoint <file>", "a checkpoint written by rnnlab train")
    .action(async (file: string, o: { checkpoint: string }) => {
      const snap = readCheckpoint(o.checkpoint);
      const { model, vocab, config } = useCheckpoint(o.checkpoint, snap, modelFromSnapshot);
      const { tokens } = loadCorpus(file, vocab, { missing: "give the path of a text file to score" });
      const unit = vocab.kind === "words" ? "words and line ends" : "characters";
      if (tokens.length < 2) throw new InputError(`${file} has ${tokens.length} of the model's ${unit}; scoring needs at least 2`);
      const B = Math.min(config.train.batch, tokens.length - 1);
      const T = Math.min(config.train.k1, Math.floor((tokens.length - 1) / B));
      checkInferenceFits(config.model, B, T);
      const { loss, count } = evaluateLoss(model, tokens, B, T, { partial: true });
      out(
        (vocab.kind === "words"
          ? `${file}: ${loss.toFixed(4)} nats/word, perplexity ${Math.exp(loss).toFixed(2)}`
          : `${file}: ${loss.toFixed(4)} nats/char, ${(loss / Math.LN2).toFixed(4)} bits/char`) +
          ` over ${fmtInt(count)} of its ${fmtInt(tokens.length)} ${vocab.kind === "words" ? "words and line ends" : "characters"}` +
          ` (checkpoint ${o.checkpoint}, step ${snap.metadata.step ?? "?"}); ${unscoredText(tokens.length, count, B)}\n`,
      );
    });
}

/**
 * Why eval scores fewer tokens than the text holds (training reports its validation text's n):
 * each token is predicted from the ones before it, so the first is never a target; the other
 * n - 1 are cut into B streams of S = floor((n - 1) / B), as training reads its text, and the
 * (n - 1) mod B left over at the end are not scored (evaluateLoss).
 */
export function unscoredText(n: number, count: number, B: number): string {
  const left = n - 1 - count;
  return (
    "not scored: the first (nothing before it predicts it)" +
    (left > 0 ? ` and the last ${fmtInt(left)} (left over when cut into ${fmtInt(B)} stream${B > 1 ? "s" : ""} of ${fmtInt(count / B)})` : "")
  );
}
