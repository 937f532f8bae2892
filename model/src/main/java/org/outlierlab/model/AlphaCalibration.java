package org.outlierlab.model;

import java.util.Set;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.outlierlab.model.execution.Replica;

/**
 * Sets OP's α (SCIENCE.md §2.3) at initialisation, after which it stays frozen: {@code measured}, layer by layer,
 * measures the RMS of the MLP pre-activation W₁h on a batch and sets α = 1/RMS, so every MLP input has unit RMS;
 * {@code recursion} takes the signal-propagation prediction ({@link AlphaRecursion}) and needs no batch.
 */
final class AlphaCalibration {
  private AlphaCalibration() {}

  /** Sets α in every layer of {@code model} (and so of the replicas sharing its arrays); measured on {@code inputs}. */
  static void calibrate(ModelConfig c, Replica model, int[][] inputs) {
    if (!c.hasAlpha()) {
      throw new IllegalStateException("model.alpha is none: this model has no alpha to set");
    }
    double[] predicted = c.alpha() == ModelConfig.Alpha.RECURSION ? AlphaRecursion.alphas(c) : null;
    for (int l = 0; l < c.nLayers(); l++) {
      INDArray alpha = model.graph().parameters().get("h" + l + "_alpha");
      if (predicted != null) {
        alpha.assign(predicted[l]);
        continue;
      }
      alpha.assign(1.0);
      String site = "mlp_preact_" + l;
      INDArray pre = model.activations(inputs, Set.of(site)).get(site);
      double rms = Math.sqrt(pre.mul(pre).meanNumber().doubleValue());
      alpha.assign(1.0 / rms);
    }
  }
}
