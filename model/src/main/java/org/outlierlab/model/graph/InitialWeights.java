package org.outlierlab.model.graph;

import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A new model's initial arrays: N(0, σ²) draws, in the order asked for, and constants, in the model's data type.
 * The draws come from Java's generator, not ND4J's: M2.1's randn after {@code Nd4j.getRandom().setSeed(s)} gave
 * different values on every call, and CPU and GPU backends would differ.
 */
public final class InitialWeights {
  private final SplittableRandom random;
  private final DataType dtype;
  private final double std;

  public InitialWeights(long seed, DataType dtype, double std) {
    this.random = new SplittableRandom(seed);
    this.dtype = dtype;
    this.std = std;
  }

  /** N(0, σ²) values of the given shape. */
  public INDArray normal(long... shape) {
    int n = Math.toIntExact(java.util.Arrays.stream(shape).reduce(1, Math::multiplyExact));
    if (dtype == DataType.DOUBLE) {
      double[] values = new double[n];
      for (int i = 0; i < n; i++) {
        values[i] = random.nextGaussian() * std;
      }
      return Nd4j.create(values, shape, 'c');
    }
    float[] values = new float[n];
    for (int i = 0; i < n; i++) {
      values[i] = (float) (random.nextGaussian() * std);
    }
    return Nd4j.create(values, shape, 'c').castTo(dtype);
  }

  public INDArray zeros(long n) {
    return Nd4j.zeros(dtype, n);
  }

  public INDArray ones(long n) {
    return Nd4j.ones(dtype, n);
  }

  public INDArray scalar(double value) {
    return Nd4j.scalar(dtype, value);
  }
}
