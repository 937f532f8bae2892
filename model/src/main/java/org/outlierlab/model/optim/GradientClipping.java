package org.outlierlab.model.optim;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Clipping by global norm, as PyTorch's clip_grad_norm_: scale every gradient by max/(‖g‖ + 1e-6) if ‖g‖ > max. */
public final class GradientClipping {
  private GradientClipping() {}

  /** Clips in place (when {@code maxNorm} > 0) and returns the global norm before clipping. */
  public static double clip(Map<String, INDArray> grads, double maxNorm) {
    return clip(grads, maxNorm, ParameterLoop.SERIAL);
  }

  /** {@link #clip(Map, double)} with the per-gradient work run through {@code loop}; the same result. */
  public static double clip(Map<String, INDArray> grads, double maxNorm, ParameterLoop loop) {
    Map<String, Double> squares = new ConcurrentHashMap<>();
    loop.forEach(grads, (name, g) -> {
      squares.put(name, FusedOps.sumOfSquares(g));
    });
    double sumSquares = 0;
    for (String name : grads.keySet()) { // in the gradients' order, whatever order the loop ran them in
      sumSquares += squares.get(name);
    }
    double norm = Math.sqrt(sumSquares);
    if (maxNorm > 0 && norm > maxNorm) {
      double scale = maxNorm / (norm + 1e-6);
      loop.forEach(grads, (name, g) -> FusedOps.scale(g, scale));
    }
    return norm;
  }
}
