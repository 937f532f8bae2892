package org.outlierlab.model.optim;

import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** An optimiser's step count, kept as state so that bias corrections resume exactly. */
final class StepCounter {
  static final String KEY = "step";
  long t;

  void save(Map<String, INDArray> state) {
    state.put(KEY, Nd4j.scalar(DataType.LONG, t));
  }

  void load(Map<String, INDArray> state) {
    t = state.get(KEY).getLong(0);
  }
}
