// Train from code, save a file the command line reads (npx rnnlab sample --checkpoint lm.safetensors), load it back.
import { Adam, CharVocab, generate, LanguageModel, Rng, StreamBatcher, Trainer } from "rnnlab";
import { load, save } from "rnnlab/node";

const text = "the cat sat on the mat. the dog sat on the log. ".repeat(40);
const vocab = CharVocab.fromText(text);
const lm = new LanguageModel({ vocabSize: vocab.size, embedSize: 8, hiddenSize: 48, cell: "gru", seed: 1 });
const trainer = new Trainer(lm, { optimizer: new Adam(lm.store, { lr: 1e-2 }), batch: 4, k1: 24, clipNorm: 5 });
const batches = new StreamBatcher(vocab.encode(text), 4, 24);
for (let step = 0; step < 150; step++) {
  const b = batches.next();
  if (b.first) trainer.tbptt.reset();
  trainer.step(b.inputs, b.targets, b.T);
}
save("lm.safetensors", lm, { vocab }); // atomic; a checkpoint in rnnlab train's format
const { model } = load("lm.safetensors");
console.log(`the ${vocab.decode(generate(model, { prime: vocab.encode("the "), length: 44, rng: new Rng(1), temperature: 0.5 }))}`);
