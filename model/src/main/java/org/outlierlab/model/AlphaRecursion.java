package org.outlierlab.model;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.transforms.strict.GELU;
import org.nd4j.linalg.factory.Nd4j;

/**
 * OP's α predicted by signal propagation at initialisation (SCIENCE.md §2, "α (MLP input scale)"), the alternative to
 * measuring it on a batch. With every weight N(0, σ²), a product W·x has second moment fan_in·σ²·E[x²] per
 * coordinate. The residual stream's second moment v follows the branches:
 * <ul>
 *   <li>v₀ = (embedding scale·σ)², plus σ² for learned positions (added unscaled);
 *   <li>attention adds β²·(dσ²)²·v_in (V then the output projection). Attention's mixing of positions is taken as
 *       the identity: the upper bound, reached when the positions' values are fully correlated;
 *   <li>the MLP's pre-activation W₁x has second moment dσ²·v_in, so α = 1/√(dσ²·v_in) makes it 1; the MLP then
 *       adds β²·(4d)σ²·E[φ(z)²] for z ~ N(0, 1) (ReLU: ½; GeLU: computed from ND4J's own op, below);
 * </ul>
 * where v_in is 1 after a norm (an input norm, or Post-LN's norm after each addition) and v otherwise. The
 * trainable β's initial value is used. With β ≤ 1 the attention term is small (OP: β²·(dσ²)² ≈ 0.004 at d=768,
 * σ=0.02), so the identity-mixing bound costs little.
 */
public final class AlphaRecursion {
  private AlphaRecursion() {}

  /** α for every layer, in order. */
  public static double[] alphas(ModelConfig c) {
    double sigma2 = c.initStd() * c.initStd();
    double fanIn = c.dModel() * sigma2; // a d-input product's gain on the second moment
    double mlpOut = c.mlpWidth() * sigma2 * activationSecondMoment(c.activation());
    double beta2 = c.beta() * c.beta();
    double v = c.embeddingScale() * c.embeddingScale() * sigma2
        + (c.positions() == ModelConfig.Positions.LEARNED ? sigma2 : 0);
    double[] alphas = new double[c.nLayers()];
    for (int l = 0; l < c.nLayers(); l++) {
      double valueIn = c.normBeforeV() ? 1 : v;
      v = c.normAfterResidual() ? 1 : v + beta2 * fanIn * fanIn * valueIn;
      alphas[l] = 1 / Math.sqrt(fanIn * (c.normBeforeMlp() ? 1 : v));
      v = c.normAfterResidual() ? 1 : v + beta2 * mlpOut;
    }
    return alphas;
  }

  /**
   * E[φ(z)²] for z ~ N(0, 1): ½ for ReLU; for GeLU by Simpson's rule on [−12, 12] over ND4J's own gelu op (the one
   * the model runs), so that the constant matches whichever approximation of GeLU it computes.
   */
  static double activationSecondMoment(ModelConfig.Activation activation) {
    if (activation == ModelConfig.Activation.RELU) {
      return 0.5;
    }
    int intervals = 24_000;
    double lo = -12;
    double h = 24.0 / intervals;
    double[] grid = new double[intervals + 1];
    for (int i = 0; i <= intervals; i++) {
      grid[i] = lo + i * h;
    }
    INDArray z = Nd4j.createFromArray(grid);
    INDArray out = z.ulike();
    Nd4j.getExecutioner().exec(new GELU(z, out));
    double[] phi = out.toDoubleVector();
    double sum = 0;
    for (int i = 0; i <= intervals; i++) {
      double x = grid[i];
      double weight = i == 0 || i == intervals ? 1 : i % 2 == 1 ? 4 : 2;
      sum += weight * phi[i] * phi[i] * Math.exp(-x * x / 2);
    }
    return sum * h / 3 / Math.sqrt(2 * Math.PI);
  }
}
