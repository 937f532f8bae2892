package org.outlierlab.model.optim;

import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Updates parameters in place from their gradients. Every parameter arrives with its real shape, so a rule
 * can treat matrices, vectors and scalars differently (and a later preconditioner can rotate matrices).
 */
public interface Optimizer {
  /** Updates every parameter that has a gradient; parameters without one (frozen) are left alone. */
  void step(Map<String, INDArray> params, Map<String, INDArray> grads, double lr);

  /** The full state, by name, for a checkpoint; {@link #loadState} restores it exactly. */
  Map<String, INDArray> state();

  void loadState(Map<String, INDArray> state);

  /**
   * Decoupled weight decay applies to matrices (linear weights and embeddings), never to gains, biases or
   * residual scales β, which are vectors or scalars (PAPER §3).
   */
  static boolean decays(INDArray param) {
    return param.rank() >= 2;
  }
}
