package org.outlierlab.model.quant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The fake-quantisers against exact integer arithmetic, their closed forms, and a planted outlier. */
class QuantizerTest {
  private static final IntGrid UINT8 = new IntGrid(8, false);
  private static final IntGrid INT8 = new IntGrid(8, true);

  /** The graph's output for x through {@code q}, in the given precision. */
  private static double[] graph(Quantizer q, double[][] x, DataType dtype) {
    SameDiff sd = SameDiff.create();
    SDVariable in = sd.constant("x", Nd4j.createFromArray(x).castTo(dtype));
    SDVariable out = q.apply(in).rename("out");
    return sd.output(Map.of(), "out").get("out").dup('c').data().asDouble();
  }

  private static double[][] normal(int rows, int cols, long seed) {
    Random r = new Random(seed);
    double[][] x = new double[rows][cols];
    for (double[] row : x) {
      for (int j = 0; j < cols; j++) {
        row[j] = r.nextGaussian();
      }
    }
    return x;
  }

  @Test
  void gridsAreTheRestrictedSymmetricAndTheFullUnsignedRanges() {
    assertEquals(-127, INT8.min());
    assertEquals(127, INT8.max());
    assertEquals(0, UINT8.min());
    assertEquals(255, UINT8.max());
    assertEquals(3, IntGrid.round(2.5));
    assertEquals(-3, IntGrid.round(-2.5));
    assertEquals(0, IntGrid.round(0.49999997f));
    double[] sz = UINT8.scaleAndZero(-1, 3); // s = 4/255, z = round(255/4) = 64
    assertEquals(4.0 / 255, sz[0], 0);
    assertEquals(64, sz[1], 0);
    assertEquals(0, UINT8.scaleAndZero(0.5, 2)[1], 0, "the range widens to hold 0");
  }

  @Test
  void roundTripIsWithinHalfAStepInsideTheRangeAndTheGraphEqualsTheArithmetic() {
    double[][] x = normal(6, 10, 1);
    Quantizer.Static q = Quantizer.Static.forRange(UINT8, -2, 2.5);
    double s = q.scale()[0];
    double[] viaGraph = graph(q, x, DataType.DOUBLE);
    for (int i = 0; i < 6; i++) {
      for (int j = 0; j < 10; j++) {
        double expected = q.value(q.code(x[i][j], 0), 0);
        assertEquals(expected, viaGraph[i * 10 + j], 0, "graph and integer arithmetic at " + i + "," + j);
        double lo = q.value(UINT8.min(), 0);
        double hi = q.value(UINT8.max(), 0);
        if (x[i][j] >= lo && x[i][j] <= hi) {
          assertTrue(Math.abs(expected - x[i][j]) <= s / 2 * (1 + 1e-12), "within half a step");
        } else {
          assertEquals(x[i][j] < lo ? lo : hi, expected, 1e-15, "clipped to the grid's end");
        }
      }
    }
    float[][] xf = new float[6][10]; // in float the graph computes x/s, round, ±z and ·s each rounded to float
    double[] viaFloat = graph(q, x, DataType.FLOAT);
    float sf = (float) s;
    float zf = (float) q.zeroPoint()[0];
    for (int i = 0; i < 6; i++) {
      for (int j = 0; j < 10; j++) {
        xf[i][j] = (float) x[i][j];
        float code = Math.max(0, Math.min(255, (float) IntGrid.round(xf[i][j] / sf) + zf));
        assertEquals((code - zf) * sf, (float) viaFloat[i * 10 + j], 0, "float graph at " + i + "," + j);
      }
    }
  }

  @Test
  void perChannelAndPerTokenGraphsEqualTheirArithmetic() {
    double[][] w = normal(5, 4, 2);
    for (int i = 0; i < 5; i++) {
      w[i][2] *= 30; // one wide output channel
    }
    double[] flat = java.util.Arrays.stream(w).flatMapToDouble(java.util.Arrays::stream).toArray();
    Quantizer.Static perChannel = WeightRange.of(flat, 4,
        new Protocol.Weights(8, Protocol.Granularity.CHANNEL, WeightRange.Method.MINMAX));
    assertEquals(4, perChannel.scale().length);
    double[] viaGraph = graph(perChannel, w, DataType.DOUBLE);
    for (int i = 0; i < 5; i++) {
      for (int j = 0; j < 4; j++) {
        assertEquals(perChannel.value(perChannel.code(w[i][j], j), j), viaGraph[i * 4 + j], 0);
      }
    }
    Quantizer.PerToken perToken = new Quantizer.PerToken(INT8);
    double[][] x = normal(3, 7, 3);
    double[] tokens = graph(perToken, x, DataType.DOUBLE);
    for (int i = 0; i < 3; i++) {
      double maxAbs = java.util.Arrays.stream(x[i]).map(Math::abs).max().orElseThrow();
      double s = perToken.scale(maxAbs);
      for (int j = 0; j < 7; j++) {
        assertEquals(INT8.clamp(IntGrid.round(x[i][j] / s)) * s, tokens[i * 7 + j], 1e-15);
      }
    }
    assertArrayEquals(new double[6], graph(perToken, new double[2][3], DataType.FLOAT), 0, "zeros stay zeros");
  }

  /** A fake-quantised matrix product equals s_a·s_w·Σ (q_a − z_a)·q_w computed in integers (int8 × int8 → int32). */
  @Test
  void fakeQuantisedProductEqualsTheIntegerKernel() {
    double[][] a = normal(4, 16, 4);
    double[][] w = normal(16, 3, 5);
    Quantizer.Static qa = Quantizer.Static.forRange(UINT8, -2.5, 3);
    double[] wFlat = java.util.Arrays.stream(w).flatMapToDouble(java.util.Arrays::stream).toArray();
    Quantizer.Static qw = WeightRange.of(wFlat, 3,
        new Protocol.Weights(8, Protocol.Granularity.TENSOR, WeightRange.Method.MINMAX));
    SameDiff sd = SameDiff.create();
    SDVariable product = sd.mmul(qa.apply(sd.constant(Nd4j.createFromArray(a))),
        qw.apply(sd.constant(Nd4j.createFromArray(w)))).rename("y");
    INDArray y = sd.output(Map.of(), "y").get("y");
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < 3; j++) {
        long acc = 0; // what an int8 GEMM accumulates in int32
        for (int k = 0; k < 16; k++) {
          acc += (qa.code(a[i][k], 0) - (long) qa.zeroPoint()[0]) * qw.code(w[k][j], 0);
        }
        assertTrue(Math.abs(acc) < Integer.MAX_VALUE);
        double expected = qa.scale()[0] * qw.scale()[0] * acc;
        assertEquals(expected, y.getDouble(i, j), 1e-12 * Math.max(1, Math.abs(expected)));
      }
    }
  }

  /**
   * An outlier feature that fires on a few tokens stretches a per-tensor range, and the rounding noise of every other
   * value grows with the step (its mean square s²/12); per-token scales confine it to the tokens that carry it.
   */
  @Test
  void plantedOutlierRaisesPerTensorErrorByTheRangeAndPerTokenRemovesIt() {
    int tokens = 400;
    int width = 64;
    double[][] plain = normal(tokens, width, 6);
    double[][] planted = new double[tokens][];
    for (int i = 0; i < tokens; i++) {
      planted[i] = plain[i].clone();
      if (i % 50 == 0) {
        planted[i][5] = 80; // 8 of 400 tokens
      }
    }
    double plainRange = range(plain);
    double plantedRange = range(planted);
    double plainError = offOutlierNoise(tensorQuantizer(plain), plain);
    double plantedError = offOutlierNoise(tensorQuantizer(planted), planted);
    double predicted = Math.pow(plantedRange / plainRange, 2); // mean square noise ∝ s² ∝ range²
    assertEquals(predicted, plantedError / plainError, 0.1 * predicted, "noise grows with the range squared");
    assertTrue(predicted > 50);
    double perToken = offOutlierNoise(new Quantizer.PerToken(INT8), planted);
    double perTokenPlain = offOutlierNoise(new Quantizer.PerToken(INT8), plain);
    assertTrue(perToken < 2 * perTokenPlain, "per-token: the clean tokens keep their error: " + perToken
        + " vs " + perTokenPlain);
    assertTrue(perToken < plantedError / 10, "per-token removes most of the per-tensor error");
  }

  private static double range(double[][] x) {
    return java.util.Arrays.stream(x).flatMapToDouble(java.util.Arrays::stream).max().orElseThrow()
        - java.util.Arrays.stream(x).flatMapToDouble(java.util.Arrays::stream).min().orElseThrow();
  }

  private static Quantizer tensorQuantizer(double[][] x) {
    RangeEstimator e = new RangeEstimator(0.9, 100);
    e.add(Nd4j.createFromArray(x));
    return Quantizer.Static.forRange(UINT8, e.range()[0], e.range()[1]);
  }

  /** Mean square error over the tokens without the outlier (every 50th carries it). */
  private static double offOutlierNoise(Quantizer q, double[][] x) {
    double[] y = graph(q, x, DataType.DOUBLE);
    double sum = 0;
    int n = 0;
    for (int i = 0; i < x.length; i++) {
      if (i % 50 == 0) {
        continue;
      }
      for (int j = 0; j < x[i].length; j++) {
        double e = y[i * x[i].length + j] - x[i][j];
        sum += e * e;
        n++;
      }
    }
    return sum / n;
  }

  @Test
  void rangeEstimatorFoldsBatchesWithMomentumAndTakesNumpysPercentiles() {
    RangeEstimator e = new RangeEstimator(0.9, 100);
    e.add(Nd4j.createFromArray(-1.0, 2, 0.5));
    e.add(Nd4j.createFromArray(-3.0, 4));
    assertArrayEquals(new double[] {0.9 * -1 + 0.1 * -3, 0.9 * 2 + 0.1 * 4}, e.range(), 1e-15);
    double[] oneTo101 = java.util.stream.IntStream.rangeClosed(1, 101).asDoubleStream().toArray();
    assertArrayEquals(new double[] {2, 100}, RangeEstimator.percentiles(oneTo101, 99), 1e-12); // numpy: 2.0, 100.0
    assertArrayEquals(new double[] {1.5, 100.5}, RangeEstimator.percentiles(oneTo101, 99.5), 1e-12);
    RangeEstimator clipped = new RangeEstimator(0.9, 99);
    clipped.add(Nd4j.createFromArray(oneTo101));
    assertArrayEquals(new double[] {2, 100}, clipped.range(), 1e-12);
  }

  @Test
  void mseSearchTrimsAHeavyTailAndNeverDoesWorseThanMinMax() {
    double[][] w = normal(64, 64, 7);
    w[3][3] = 40;
    double[] flat = java.util.Arrays.stream(w).flatMapToDouble(java.util.Arrays::stream).toArray();
    Quantizer.Static minmax = WeightRange.of(flat, 64,
        new Protocol.Weights(4, Protocol.Granularity.TENSOR, WeightRange.Method.MINMAX));
    Quantizer.Static mse = WeightRange.of(flat, 64,
        new Protocol.Weights(4, Protocol.Granularity.TENSOR, WeightRange.Method.MSE));
    assertTrue(mse.scale()[0] < minmax.scale()[0] / 2, "the MSE range clips the outlier");
    INDArray x = Nd4j.createFromArray(w);
    assertTrue(QuantError.measure(mse, x).relError() < QuantError.measure(minmax, x).relError());
  }

  @Test
  void errorStatisticsHaveTheirClosedForms() {
    Quantizer.Static q = Quantizer.Static.forRange(INT8, -1, 1); // s = 1/127
    INDArray x = Nd4j.createFromArray(new double[][] {{0.5, -2, 0, 1 / 127.0}});
    QuantError e = QuantError.measure(q, x);
    double noise = Math.pow(0.5 - 64 / 127.0, 2) + 1; // 0.5 → 64/127; −2 clips to −1
    double signal = 0.25 + 4 + Math.pow(1 / 127.0, 2);
    assertEquals(10 * Math.log10(signal / noise), e.sqnrDb(), 1e-9);
    assertEquals(Math.sqrt(noise / signal), e.relError(), 1e-12);
    assertEquals(0.25, e.clippedFraction(), 0);
    assertEquals(2, e.maxAbs(), 0);
    assertEquals((0.5 + 1 / 127.0) / 2, e.medianAbs(), 1e-15);
    assertEquals(1 / 127.0, e.scale(), 1e-18);
    assertNull(QuantError.measure(q, Nd4j.zeros(DataType.DOUBLE, 2, 2)).sqnrDb(), "exact: no SQNR");
  }
}
