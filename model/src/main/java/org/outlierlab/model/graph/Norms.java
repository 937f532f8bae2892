package org.outlierlab.model.graph;

import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.outlierlab.model.ModelConfig;

/**
 * The norm layers of SCIENCE.md §2.1 as graph ops: LN(x) = g ⊙ (x − μ)/√(var + ε) + b, RMS(x) = g ⊙ x/(√mean(x²) + ε)
 * (ε outside the root, as in the paper's code) and SRMS, RMS without the gain. Axes are always positive: M2.1's
 * reductions over a negative axis gave wrong, run-to-run different values (docs/ND4J.md).
 */
final class Norms {
  private final SameDiff sd;
  private final ModelConfig c;
  private final GraphParameters params;

  Norms(SameDiff sd, ModelConfig c, GraphParameters params) {
    this.sd = sd;
    this.c = c;
    this.params = params;
  }

  /** The configuration's kind of norm over the last axis of [B, T, d], its parameters named {@code name_*}. */
  SDVariable norm(SDVariable x, String name) {
    int d = c.dModel();
    return switch (c.norm()) {
      case LN -> {
        SDVariable centred = x.sub(x.mean(true, 2));
        SDVariable var = centred.mul(centred).mean(true, 2);
        yield gained(centred.div(sd.math.sqrt(var.add(c.normEps()))), var,
            params.trainable(name + "_gain", w -> w.ones(d)))
            .add(params.trainable(name + "_bias", w -> w.zeros(d)));
      }
      case RMS -> rms(x, params.trainable(name + "_gain", w -> w.ones(d)), 2);
      case SRMS -> rms(x, null, 2);
    };
  }

  /** x / (rms(x) + eps) over {@code axis} (the last), times the gain if any. */
  SDVariable rms(SDVariable x, SDVariable gain, int axis) {
    SDVariable meanSquare = x.mul(x).mean(true, axis);
    SDVariable y = x.div(sd.math.sqrt(meanSquare).add(c.normEps()));
    return gain == null ? y : gained(y, meanSquare, gain);
  }

  /**
   * y·gain with the gain broadcast along y's last axis, written as y ⊙ (1·gainᵀ): the outer product of a ones column
   * (one row per entry of {@code perRow}, a statistic of y's rows kept as [..., 1]) and the gain, then a same-shape
   * multiply, so the gain's gradient is a matrix product. Why: M2.1's broadcasting multiply is slow in backprop
   * (forward and backward on [2, 128, 768]: about 6.5 ms, against 3.5 ms this way; docs/BENCHMARKS.md, train).
   */
  private SDVariable gained(SDVariable y, SDVariable perRow, SDVariable gain) {
    SDVariable rows = sd.onesLike(perRow).reshape(-1, 1);
    return y.mul(sd.mmul(rows, gain.reshape(1, -1)).reshape(sd.shape(y)));
  }
}
