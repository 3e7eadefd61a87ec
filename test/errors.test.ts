/**
 * Invalid input throws a TypeError or RangeError that names the argument and
 * the value, before any result is written, and leaves the module usable.
 * Masked and ignored rows are never read, so NaN and -Infinity there change
 * nothing. Numeric checks use rtol 1e-5 per element and 1e-6 per reduction.
 */
import { describe, expect, test } from "vitest";

import {
  categoricalCrossentropy,
  categoricalCrossentropyWithGrad,
  categoricalFocalCrossentropy,
  categoricalFocalCrossentropyWithGrad,
  logSoftmax,
  logSumExp,
  reduceTotals,
  softmax,
  sparseCategoricalCrossentropy,
  sparseCategoricalCrossentropyWithGrad,
  sparseCategoricalFocalCrossentropy,
  sparseCategoricalFocalCrossentropyWithGrad,
} from "../src/index.js";
import * as ref from "./reference.js";
import {
  expectElementsClose,
  expectReductionClose,
  expectZeros,
  oneHot,
  seededRandom,
  toNumbers,
  uniform,
} from "./helpers.js";

/**
 * Asserts that `call` throws a TypeError or RangeError whose message contains
 * every one of `parts` (the argument name, the value).
 */
function expectInputError(call: () => unknown, ...parts: string[]) {
  let error: unknown;
  try {
    call();
  } catch (caught) {
    error = caught;
  }
  expect(
    error,
    `no error thrown, expected one naming ${parts.join(", ")}`,
  ).toBeDefined();
  const isInputError =
    error instanceof TypeError || error instanceof RangeError;
  expect(
    isInputError,
    `${String(error)} is not a TypeError or RangeError`,
  ).toBe(true);
  const message = (error as Error).message;
  for (const part of parts) {
    expect(message, `message should name ${part}`).toContain(part);
  }
}

const logits = [
  [1, 2, 0.5],
  [0.1, -1, 3],
];
const probs = [
  [0.2, 0.3, 0.5],
  [0.6, 0.3, 0.1],
];
const labels = [2, 0];
const expectedLogits = ref.sparseCategoricalCrossentropy(
  labels,
  ref.tensor(logits),
  {
    fromLogits: true,
  },
).losses;

/** A valid call whose numbers must still be right after a failed one. */
function expectValidCallWorks(label: string) {
  const losses = sparseCategoricalCrossentropy(labels, logits, {
    fromLogits: true,
  });
  expectElementsClose(losses, expectedLogits, `${label}: next valid call`);
  const flat = sparseCategoricalCrossentropy(
    Int32Array.from(labels),
    Float32Array.from(logits.flat()),
    {
      fromLogits: true,
      shape: [2, 3],
    },
  );
  expectElementsClose(flat, expectedLogits, `${label}: next flat call`);
}

interface ErrorCase {
  name: string;
  call: () => unknown;
  parts: string[];
}

const errorCases: ErrorCase[] = [
  {
    name: "yTrue shape mismatch",
    call: () => categoricalCrossentropy([[1, 0]], logits, { fromLogits: true }),
    parts: ["yTrue"],
  },
  {
    name: "yTrue rank mismatch",
    call: () =>
      categoricalCrossentropy([[[1, 0, 0]], [[0, 1, 0]]], logits, {
        fromLogits: true,
      }),
    parts: ["yTrue"],
  },
  {
    name: "flat yPred length mismatch",
    call: () =>
      sparseCategoricalCrossentropy(Int32Array.of(0, 1), new Float32Array(5), {
        shape: [2, 3],
      }),
    parts: ["5", "6"],
  },
  {
    name: "flat yTrue length mismatch",
    call: () =>
      categoricalCrossentropy(new Float32Array(4), new Float32Array(6), {
        shape: [2, 3],
      }),
    parts: ["yTrue", "4"],
  },
  {
    name: "ragged nested yPred",
    call: () =>
      sparseCategoricalCrossentropy(
        [0, 1],
        [
          [1, 2, 3],
          [1, 2],
        ],
        { fromLogits: true },
      ),
    parts: ["yPred"],
  },
  {
    name: "labels length mismatch",
    call: () =>
      sparseCategoricalCrossentropy([0, 1, 2], logits, { fromLogits: true }),
    parts: ["labels", "3"],
  },
  {
    name: "flat labels length mismatch",
    call: () =>
      sparseCategoricalCrossentropy(
        Int32Array.of(0, 1, 2),
        new Float32Array(6),
        {
          fromLogits: true,
          shape: [2, 3],
        },
      ),
    parts: ["labels", "3"],
  },
  {
    name: "sampleWeight length mismatch",
    call: () =>
      sparseCategoricalCrossentropy(labels, logits, {
        fromLogits: true,
        sampleWeight: [1, 2, 3],
      }),
    parts: ["sampleWeight", "3"],
  },
  {
    name: "sampleWeight rank too high",
    call: () =>
      sparseCategoricalCrossentropy(labels, logits, {
        fromLogits: true,
        sampleWeight: [
          [1, 2],
          [3, 4],
        ],
      }),
    parts: ["sampleWeight"],
  },
  {
    name: "mask length mismatch",
    call: () =>
      sparseCategoricalCrossentropy(labels, logits, {
        fromLogits: true,
        mask: [1, 0, 1],
      }),
    parts: ["mask", "3"],
  },
  {
    name: "classWeights length mismatch",
    call: () =>
      sparseCategoricalCrossentropy(labels, logits, {
        fromLogits: true,
        classWeights: [1, 2],
      }),
    parts: ["classWeights", "2"],
  },
  {
    name: "alpha length mismatch",
    call: () =>
      sparseCategoricalFocalCrossentropy(labels, logits, {
        fromLogits: true,
        alpha: [0.5, 0.5],
      }),
    parts: ["alpha", "2"],
  },
  {
    name: "label equal to class count",
    call: () =>
      sparseCategoricalCrossentropy([3, 0], logits, { fromLogits: true }),
    parts: ["labels", "3"],
  },
  {
    name: "negative label not ignored",
    call: () =>
      sparseCategoricalCrossentropy([0, -1], logits, {
        fromLogits: true,
        ignoreClass: -100,
      }),
    parts: ["labels", "-1"],
  },
  {
    name: "non-integer label",
    call: () =>
      sparseCategoricalCrossentropy([1.5, 0], logits, { fromLogits: true }),
    parts: ["labels", "1.5"],
  },
  {
    name: "NaN label",
    call: () =>
      sparseCategoricalCrossentropy(
        Float32Array.of(NaN, 0),
        new Float32Array(6),
        {
          fromLogits: true,
          shape: [2, 3],
        },
      ),
    parts: ["labels", "NaN"],
  },
  {
    name: "typed label out of range",
    call: () =>
      sparseCategoricalCrossentropy(
        Uint8Array.of(0, 200),
        new Float32Array(6),
        {
          fromLogits: true,
          shape: [2, 3],
        },
      ),
    parts: ["labels", "200"],
  },
  {
    name: "negative probability",
    call: () =>
      sparseCategoricalCrossentropy(labels, [
        [0.5, -0.25, 0.75],
        [0.2, 0.3, 0.5],
      ]),
    parts: ["yPred", "-0.25"],
  },
  {
    name: "NaN probability",
    call: () =>
      categoricalCrossentropy(
        [
          [0, 0, 1],
          [1, 0, 0],
        ],
        [
          [0.5, NaN, 0.5],
          [0.2, 0.3, 0.5],
        ],
      ),
    parts: ["yPred", "NaN"],
  },
  {
    name: "negative probability focal",
    call: () =>
      sparseCategoricalFocalCrossentropy(labels, [
        [0.5, 0.5, 0],
        [0.2, -0.25, 0.5],
      ]),
    parts: ["yPred", "-0.25"],
  },
  {
    name: "labelSmoothing above 1",
    call: () =>
      sparseCategoricalCrossentropy(labels, logits, {
        fromLogits: true,
        labelSmoothing: 1.5,
      }),
    parts: ["labelSmoothing", "1.5"],
  },
  {
    name: "labelSmoothing below 0",
    call: () => categoricalCrossentropy(probs, probs, { labelSmoothing: -0.1 }),
    parts: ["labelSmoothing", "-0.1"],
  },
  {
    name: "labelSmoothing NaN",
    call: () => categoricalCrossentropy(probs, probs, { labelSmoothing: NaN }),
    parts: ["labelSmoothing", "NaN"],
  },
  {
    name: "unknown reduction",
    call: () =>
      sparseCategoricalCrossentropy(labels, logits, {
        fromLogits: true,
        reduction: "avg" as never,
      }),
    parts: [
      "reduction",
      "avg",
      "none",
      "sum",
      "sum_over_batch_size",
      "mean",
      "mean_with_sample_weight",
      "totals",
    ],
  },
  {
    name: "zero-size class axis",
    call: () =>
      sparseCategoricalCrossentropy(Int32Array.of(0, 0), new Float32Array(0), {
        fromLogits: true,
        shape: [2, 0],
      }),
    parts: ["0"],
  },
  {
    name: "zero-size nested class axis",
    call: () => logSumExp([[], []]),
    parts: ["0"],
  },
  {
    name: "flat yPred without shape",
    call: () =>
      sparseCategoricalCrossentropy(Int32Array.of(0, 1), new Float32Array(6), {
        fromLogits: true,
      }),
    parts: ["shape"],
  },
  {
    name: "flat row op without shape",
    call: () => softmax(new Float32Array(6)),
    parts: ["shape"],
  },
  {
    name: "axis out of range",
    call: () => logSoftmax(logits, { axis: 2 }),
    parts: ["axis", "2"],
  },
  {
    name: "loss axis out of range",
    call: () =>
      sparseCategoricalCrossentropy(labels, logits, {
        fromLogits: true,
        axis: -3,
      }),
    parts: ["axis", "-3"],
  },
  {
    name: "negative gamma",
    call: () =>
      sparseCategoricalFocalCrossentropy(labels, logits, {
        fromLogits: true,
        gamma: -1,
      }),
    parts: ["gamma", "-1"],
  },
  {
    name: "dy length mismatch",
    call: () =>
      sparseCategoricalCrossentropyWithGrad(labels, logits, {
        fromLogits: true,
        dy: [1, 2, 3],
      }),
    parts: ["dy", "3"],
  },
  {
    name: "out length mismatch",
    call: () =>
      sparseCategoricalCrossentropyWithGrad(
        Int32Array.from(labels),
        Float32Array.from(logits.flat()),
        {
          fromLogits: true,
          shape: [2, 3],
          out: new Float32Array(5),
        },
      ),
    parts: ["out", "5"],
  },
  {
    name: "row op out length mismatch",
    call: () =>
      softmax(Float32Array.from(logits.flat()), {
        shape: [2, 3],
        out: new Float32Array(7),
      }),
    parts: ["out", "7"],
  },
  {
    name: "reduceTotals unknown reduction",
    call: () =>
      reduceTotals({ sum: 1, count: 1, weightSum: 1 }, "avg" as never),
    parts: ["avg"],
  },
];

describe("invalid input errors", () => {
  for (const { name, call, parts } of errorCases) {
    test(name, () => {
      expectInputError(call, ...parts);
      expectValidCallWorks(name);
    });
  }
});

describe("failed calls write nothing", () => {
  test("gradient out untouched on error", () => {
    const out = new Float32Array(6).fill(7);
    expectInputError(
      () =>
        sparseCategoricalCrossentropyWithGrad(
          Int32Array.of(0, 5),
          Float32Array.from(logits.flat()),
          {
            fromLogits: true,
            shape: [2, 3],
            out,
          },
        ),
      "labels",
      "5",
    );
    expect(Array.from(out)).toEqual([7, 7, 7, 7, 7, 7]);
  });

  test("error in a late chunk writes nothing", () => {
    // 20000 rows of 9 classes span several of the library's chunks. The bad
    // value is in the last row, after earlier chunks could have been written.
    const rows = 20000;
    const classes = 9;
    const random = seededRandom(1201);
    const logits = Float32Array.from(uniform(random, rows * classes, -3, 3));
    const labels = new Int32Array(rows).fill(1);
    labels[rows - 1] = 9;
    const out = new Float32Array(rows * classes).fill(7);
    expectInputError(
      () =>
        sparseCategoricalCrossentropyWithGrad(labels, logits, {
          fromLogits: true,
          shape: [rows, classes],
          out,
        }),
      "labels",
      "9",
    );
    expect(
      out.every((v) => v === 7),
      "out unchanged",
    ).toBe(true);

    const probs = Float32Array.from(logits, (v) => Math.abs(v));
    probs[rows * classes - 2] = -0.5;
    labels[rows - 1] = 1;
    expectInputError(
      () =>
        sparseCategoricalCrossentropyWithGrad(labels, probs, {
          shape: [rows, classes],
          out,
        }),
      "yPred",
      "-0.5",
    );
    expect(
      out.every((v) => v === 7),
      "out unchanged after probability error",
    ).toBe(true);
    expectValidCallWorks("late chunk");
  });

  test("softmax out untouched on error", () => {
    const out = new Float32Array(6).fill(7);
    expectInputError(
      () =>
        softmax(Float32Array.from(logits.flat()), {
          shape: [2, 3],
          axis: 5,
          out,
        }),
      "axis",
    );
    expect(Array.from(out)).toEqual([7, 7, 7, 7, 7, 7]);
  });
});

describe("masked and ignored rows unread", () => {
  const random = seededRandom(1200);
  const classes = 5;
  const kept = uniform(random, 3 * classes, -3, 3);
  const keptProbs = Float64Array.from({ length: 3 * classes }, () =>
    Math.fround(0.05 + random()),
  );
  const keptLabels = [4, 0, 2];
  const poison = [
    [NaN, NaN, NaN, NaN, NaN],
    [-Infinity, -Infinity, -Infinity, -Infinity, -Infinity],
  ];
  /** Puts the poison rows at positions 1 and 3 of a 5-row batch. */
  const withPoison = (rows: Float64Array) => [
    Array.from(rows.slice(0, classes)),
    poison[0],
    Array.from(rows.slice(classes, 2 * classes)),
    poison[1],
    Array.from(rows.slice(2 * classes)),
  ];
  const mask = [1, 0, 1, 0, 1];
  const reductions = [
    "none",
    "sum",
    "mean",
    "mean_with_sample_weight",
  ] as const;

  const lossApis = [
    {
      name: "sparse",
      sparse: true,
      focal: false,
      api: sparseCategoricalCrossentropy,
    },
    {
      name: "categorical",
      sparse: false,
      focal: false,
      api: categoricalCrossentropy,
    },
    {
      name: "sparse focal",
      sparse: true,
      focal: true,
      api: sparseCategoricalFocalCrossentropy,
    },
    {
      name: "categorical focal",
      sparse: false,
      focal: true,
      api: categoricalFocalCrossentropy,
    },
  ];
  const gradApis = [
    {
      name: "sparse",
      sparse: true,
      focal: false,
      api: sparseCategoricalCrossentropyWithGrad,
    },
    {
      name: "categorical",
      sparse: false,
      focal: false,
      api: categoricalCrossentropyWithGrad,
    },
    {
      name: "sparse focal",
      sparse: true,
      focal: true,
      api: sparseCategoricalFocalCrossentropyWithGrad,
    },
    {
      name: "categorical focal",
      sparse: false,
      focal: true,
      api: categoricalFocalCrossentropyWithGrad,
    },
  ];

  for (const fromLogits of [true, false]) {
    const rows = fromLogits ? kept : keptProbs;
    const input = fromLogits ? "logits" : "probabilities";

    for (const { name, sparse, focal, api } of lossApis) {
      test(`${name} ${input} masked rows`, () => {
        const labels5 = [4, 1, 0, 3, 2];
        const target = sparse
          ? labels5
          : ref.nest(oneHot(labels5, classes), [5, classes]);
        const sampleWeight = [0.5, 1, 2, 1, 1.5];
        const refOptions = { fromLogits, sampleWeight: [0.5, 2, 1.5] };
        const expected = focal
          ? ref.sparseCategoricalFocalCrossentropy(
              keptLabels,
              ref.tensor(rows, [3, classes]),
              refOptions,
            )
          : ref.sparseCategoricalCrossentropy(
              keptLabels,
              ref.tensor(rows, [3, classes]),
              refOptions,
            );
        for (const reduction of reductions) {
          const result = api(target as never, withPoison(rows), {
            fromLogits,
            mask,
            sampleWeight,
            reduction,
          });
          if (reduction === "none") {
            const values = toNumbers(result);
            expect(values[1], "masked row 1").toBe(0);
            expect(values[3], "masked row 3").toBe(0);
            expectElementsClose(
              [values[0], values[2], values[4]],
              expected.losses,
              `${reduction}`,
            );
          } else {
            expectReductionClose(
              result,
              ref.reduceTotals(expected.totals, reduction),
              reduction,
            );
          }
        }
      });
    }

    for (const { name, sparse, focal, api } of gradApis) {
      test(`${name} ${input} masked rows gradient`, () => {
        const labels5 = [4, 1, 0, 3, 2];
        const target = sparse
          ? labels5
          : ref.nest(oneHot(labels5, classes), [5, classes]);
        const expected = ref.sparseCategoricalCrossentropyWithGrad(
          keptLabels,
          ref.tensor(rows, [3, classes]),
          { fromLogits, reduction: "mean" },
          focal,
        );
        const result = api(target as never, withPoison(rows), {
          fromLogits,
          mask,
          reduction: "mean",
        });
        expectReductionClose(result.loss, expected.loss as number, "loss");
        const grad = toNumbers(result.grad);
        expectZeros(grad.slice(classes, 2 * classes), "masked row 1");
        expectZeros(grad.slice(3 * classes, 4 * classes), "masked row 3");
        expectElementsClose(
          [
            ...grad.slice(0, classes),
            ...grad.slice(2 * classes, 3 * classes),
            ...grad.slice(4 * classes),
          ],
          expected.grad,
          "kept rows",
        );
      });
    }
  }

  for (const ignoreClass of [-100, 1]) {
    test(`ignoreClass ${ignoreClass} rows unread`, () => {
      const labels5 = [4, ignoreClass, 0, ignoreClass, 2];
      const expected = ref.sparseCategoricalCrossentropy(
        keptLabels,
        ref.tensor(kept, [3, classes]),
        {
          fromLogits: true,
        },
      );
      for (const reduction of reductions) {
        const result = sparseCategoricalCrossentropy(
          labels5,
          withPoison(kept),
          {
            fromLogits: true,
            ignoreClass,
            reduction,
          },
        );
        if (reduction === "none") {
          const values = toNumbers(result);
          expect(values[1], "ignored row 1").toBe(0);
          expect(values[3], "ignored row 3").toBe(0);
          expectElementsClose(
            [values[0], values[2], values[4]],
            expected.losses,
            reduction,
          );
        } else {
          expectReductionClose(
            result,
            ref.reduceTotals(expected.totals, reduction),
            reduction,
          );
        }
      }
    });
  }

  test("masked rows of rank 3 tokens", () => {
    // [2, 2, 3] logits with the second token of each sequence poisoned and masked.
    const yPred = [
      [
        [1, 2, 3],
        [NaN, NaN, NaN],
      ],
      [
        [0.5, -1, 0],
        [-Infinity, -Infinity, -Infinity],
      ],
    ];
    const result = sparseCategoricalCrossentropy(
      [
        [0, 1],
        [2, 0],
      ],
      yPred,
      {
        fromLogits: true,
        mask: [
          [1, 0],
          [1, 0],
        ],
        reduction: "mean",
      },
    );
    const expected = ref.sparseCategoricalCrossentropy(
      [0, 2],
      ref.tensor([
        [1, 2, 3],
        [0.5, -1, 0],
      ]),
      {
        fromLogits: true,
      },
    );
    expectReductionClose(
      result,
      ref.reduceTotals(expected.totals, "mean"),
      "mean",
    );
  });
});
