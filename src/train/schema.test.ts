// Checkpoint configs: the language model's embedding and output dropout are read when present,
// checked like `dropout`, and absent in configs written before them (no dropout there).

import { describe, expect, it } from "vitest";
import { CheckpointError } from "../errors.js";
import { metaJson, MODEL_KEYS, parseMetaJson, parseModelConfig } from "./schema.js";

const BASE = { cell: "lstm", vocabSize: 10, embedSize: 4, hiddenSize: 4, numLayers: 2, nonlinearity: "tanh", tieWeights: false, dropout: 0.2 };

describe("parseModelConfig: embedding and output dropout", () => {
  it("a config without them (as every older checkpoint) parses, with neither field", () => {
    const m = parseModelConfig({ ...BASE });
    expect(m).not.toHaveProperty("embeddingDropout");
    expect(m).not.toHaveProperty("outputDropout");
  });

  it("reads them when present", () => {
    expect(parseModelConfig({ ...BASE, embeddingDropout: 0.25, outputDropout: 0 })).toMatchObject({ embeddingDropout: 0.25, outputDropout: 0 });
    expect(MODEL_KEYS).toContain("embeddingDropout");
    expect(MODEL_KEYS).toContain("outputDropout");
  });

  it("refuses a value outside [0, 0.99] or not a number, naming the field", () => {
    for (const key of ["embeddingDropout", "outputDropout"]) {
      for (const bad of [1, -0.5, "0.1", null, Number.NaN]) {
        let err: unknown;
        try {
          parseModelConfig({ ...BASE, [key]: bad });
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(CheckpointError);
        expect((err as Error).message).toMatch(new RegExp(`config\\.model\\.${key} must be a number >= 0 and <= 0\\.99`));
      }
    }
    expect(() => parseModelConfig({ ...BASE, embedingDropout: 0.1 })).toThrow(/config\.model\.embedingDropout is not a setting rnnlab knows/);
  });
});

describe("metadata JSON keeps non-finite numbers (as Python's json module writes them)", () => {
  it("round-trips Infinity, -Infinity and NaN anywhere, and leaves strings that spell them alone", () => {
    const v = {
      best: Infinity,
      low: -Infinity,
      nan: Number.NaN,
      list: [1, Infinity, { x: -Infinity }],
      words: ["Infinity", "NaN", '"-Infinity"', "a\\"],
      n: 2.5,
      none: null,
    };
    const text = metaJson(v);
    expect(text).toContain('"best":Infinity');
    expect(text).toContain('"low":-Infinity');
    expect(text).toContain('"nan":NaN');
    expect(parseMetaJson(text)).toEqual(v);
    expect(metaJson({ a: 1 })).toBe(JSON.stringify({ a: 1 }));
  });

  it("reads what Python's json.dumps writes, and refuses what is not JSON", () => {
    expect(parseMetaJson('{"best": Infinity, "v": [NaN, -Infinity], "s": "NaN Infinity"}')).toEqual({
      best: Infinity,
      v: [Number.NaN, -Infinity],
      s: "NaN Infinity",
    });
    expect(() => parseMetaJson("{best: Infinity}")).toThrow();
    expect(() => parseMetaJson("InfinityX")).toThrow();
  });
});
