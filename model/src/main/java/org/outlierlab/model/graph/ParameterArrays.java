package org.outlierlab.model.graph;

import java.util.Map;
import java.util.function.Function;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Where a graph's parameter arrays come from: drawn for a new model, or another model's own for a replica. */
@FunctionalInterface
public interface ParameterArrays {
  /** The array of parameter {@code name}; {@code initial} makes it for a new model. */
  INDArray get(String name, Function<InitialWeights, INDArray> initial);

  /** A new model's: each array made as it is asked for, so the order of asking fixes the initial weights. */
  static ParameterArrays drawn(InitialWeights weights) {
    return (name, initial) -> initial.apply(weights);
  }

  /** A replica's: the arrays of another model, by name, shared rather than copied. */
  static ParameterArrays sharedWith(Map<String, INDArray> arrays) {
    return (name, initial) -> arrays.get(name);
  }
}
