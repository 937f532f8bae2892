package org.outlierlab.model.optim;

import java.util.Map;
import java.util.function.BiConsumer;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A loop over parameters (or their gradients) whose bodies are independent of each other, so that a model training
 * on several threads can spread them over its threads. A body must touch only its own entry's arrays.
 */
@FunctionalInterface
public interface ParameterLoop {
  /** Calls {@code body} once for every entry, possibly several at once; returns when every call has finished. */
  void forEach(Map<String, INDArray> arrays, BiConsumer<String, INDArray> body);

  /** Every entry in order, on the calling thread. */
  ParameterLoop SERIAL = (arrays, body) -> arrays.forEach(body);
}
