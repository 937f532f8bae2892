package org.outlierlab.model.graph;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The graph's parameter variables as the builder creates them, listed in creation order. */
final class GraphParameters {
  private final SameDiff sd;
  private final ParameterArrays arrays;
  /** The trained variables' names (wte among them when the embedding is tied). */
  final List<String> trainableNames = new ArrayList<>();
  /** The names of variables that are part of the model's state but never given a gradient (OP's α). */
  final List<String> frozenNames = new ArrayList<>();

  GraphParameters(SameDiff sd, ParameterArrays arrays) {
    this.sd = sd;
    this.arrays = arrays;
  }

  SDVariable trainable(String name, Function<InitialWeights, INDArray> initial) {
    trainableNames.add(name);
    return sd.var(name, arrays.get(name, initial));
  }

  SDVariable frozen(String name, Function<InitialWeights, INDArray> initial) {
    frozenNames.add(name);
    return sd.var(name, arrays.get(name, initial));
  }

  /** An array kept outside the graph (the embedding tables), from the same source. */
  INDArray outside(String name, Function<InitialWeights, INDArray> initial) {
    return arrays.get(name, initial);
  }
}
