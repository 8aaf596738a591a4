// The README's quick start: a character-level RNN language model trained with truncated BPTT,
// Adam and gradient-norm clipping, on a few sentences from the lecture.
import { Adam, CharVocab, LanguageModel, StreamBatcher, Trainer } from "rnnlab";

const text = "Jane walked into the room. John walked in too. It was late in the day. Jane said hi to John. ".repeat(50);
const vocab = CharVocab.fromText(text);
const model = new LanguageModel({ vocabSize: vocab.size, embedSize: 16, hiddenSize: 64, seed: 1 });
const trainer = new Trainer(model, {
  optimizer: new Adam(model.store, { lr: 3e-3 }),
  batch: 8, // 8 parallel streams
  k1: 32, // backpropagate through 32 steps
  clipNorm: 5, // rescale the gradient when its norm passes 5 (Pascanu et al. 2013)
});
const batches = new StreamBatcher(vocab.encode(text), 8, 32);
for (let step = 1; step <= 300; step++) {
  const b = batches.next();
  if (b.first) trainer.tbptt.reset(); // a new pass over the text: start from a zero state
  const r = trainer.step(b.inputs, b.targets, b.T);
  if (step % 50 === 0 || step === 1) {
    console.log(`step ${step}: loss ${r.loss.toFixed(3)} nats/char, grad norm ${r.gradNorm.toFixed(2)}${r.clipped ? " (clipped)" : ""}`);
  }
}
console.log(`${model.store.size} parameters, ${trainer.stats.clipped} of ${trainer.stats.steps} steps clipped`);
