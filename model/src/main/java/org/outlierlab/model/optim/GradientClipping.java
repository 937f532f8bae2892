package org.outlierlab.model.optim;

import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Clipping by global norm, as PyTorch's clip_grad_norm_: scale every gradient by max/(‖g‖ + 1e-6) if ‖g‖ > max. */
public final class GradientClipping {
  private GradientClipping() {}

  /** Clips in place (when {@code maxNorm} > 0) and returns the global norm before clipping. */
  public static double clip(Map<String, INDArray> grads, double maxNorm) {
    double sumSquares = 0;
    for (INDArray g : grads.values()) {
      double n = g.norm2Number().doubleValue();
      sumSquares += n * n;
    }
    double norm = Math.sqrt(sumSquares);
    if (maxNorm > 0 && norm > maxNorm) {
      double scale = maxNorm / (norm + 1e-6);
      grads.values().forEach(g -> g.muli(scale));
    }
    return norm;
  }
}
