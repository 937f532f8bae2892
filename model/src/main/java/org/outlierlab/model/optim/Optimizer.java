package org.outlierlab.model.optim;

import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Updates parameters in place from their gradients. Every parameter arrives with its real shape, so a rule
 * can treat matrices, vectors and scalars differently (and a later preconditioner can rotate matrices).
 */
public interface Optimizer {
  /**
   * Updates every parameter that has a gradient; parameters without one (frozen) are left alone. A rule whose
   * parameters update independently of each other runs them through {@code loop}.
   */
  void step(Map<String, INDArray> params, Map<String, INDArray> grads, double lr, ParameterLoop loop);

  /** {@link #step(Map, Map, double, ParameterLoop)} on the calling thread. */
  default void step(Map<String, INDArray> params, Map<String, INDArray> grads, double lr) {
    step(params, grads, lr, ParameterLoop.SERIAL);
  }

  /** The full state, by name, for a checkpoint; {@link #loadState} restores it exactly. */
  Map<String, INDArray> state();

  void loadState(Map<String, INDArray> state);

  /**
   * Parameter averaging's rule for this optimiser's state: {@code summed} holds the workers' states added entry
   * by entry; the result is the state the next round starts from. Here every moment and factor is averaged, and
   * the step count (integer, equal on every worker) divides back to itself. A rule whose state must not be
   * averaged entry by entry (an eigenbasis, say) overrides this.
   */
  default Map<String, INDArray> averaged(Map<String, INDArray> summed, int workers) {
    Map<String, INDArray> out = new java.util.LinkedHashMap<>();
    summed.forEach((name, sum) -> out.put(name, sum.divi(workers)));
    return out;
  }

  /** The parameters that have a gradient (the others are frozen), in the parameters' order. */
  static Map<String, INDArray> trained(Map<String, INDArray> params, Map<String, INDArray> grads) {
    Map<String, INDArray> out = new java.util.LinkedHashMap<>();
    params.forEach((name, p) -> {
      if (grads.containsKey(name)) {
        out.put(name, p);
      }
    });
    return out;
  }

  /**
   * Decoupled weight decay applies to matrices (linear weights and embeddings), never to gains, biases or
   * residual scales β, which are vectors or scalars (SCIENCE.md §3).
   */
  static boolean decays(INDArray param) {
    return param.rank() >= 2;
  }
}
