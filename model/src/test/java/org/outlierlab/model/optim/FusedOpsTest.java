package org.outlierlab.model.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * FusedOps against the same arithmetic in plain doubles, element by element: float arrays take the SIMD loops
 * (lengths around the vector width and the norm's block, for the tails), double arrays and strided views take ND4J
 * ops; a view's neighbours in its buffer are never touched.
 */
class FusedOpsTest {
  private static final int[] LENGTHS = {1, 3, 8, 17, 64, 1000, 4099};
  private final Random random = new Random(7);

  @Test
  void theSimdLoopsAreWhatTheTestsRun() {
    assertTrue(FusedOps.simd(), "the tests run with --add-modules=jdk.incubator.vector (see the parent pom)");
  }

  private double[] values(int n) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) random.nextGaussian(); // exactly representable in float
    }
    return x;
  }

  private static INDArray array(double[] x, DataType type) {
    return Nd4j.createFromArray(x).castTo(type);
  }

  private static void assertElements(double[] expected, INDArray actual, double relative) {
    assertEquals(expected.length, actual.length());
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual.getDouble(i), relative * Math.max(1, Math.abs(expected[i])), "element " + i);
    }
  }

  private static double tolerance(DataType type) {
    return type == DataType.FLOAT ? 1e-6 : 1e-14;
  }

  @Test
  void sumIntoAddsAndDivides() {
    for (DataType type : List.of(DataType.FLOAT, DataType.DOUBLE)) {
      for (int n : LENGTHS) {
        double[] a = values(n);
        double[] b = values(n);
        double[] c = values(n);
        double[] expected = new double[n];
        for (int i = 0; i < n; i++) {
          expected[i] = (a[i] + b[i] + c[i]) / 512;
        }
        INDArray target = array(a, type);
        FusedOps.sumInto(target, List.of(array(b, type), array(c, type)), 512);
        assertElements(expected, target, tolerance(type));
      }
    }
  }

  @Test
  void sumOfSquaresAndScale() {
    for (DataType type : List.of(DataType.FLOAT, DataType.DOUBLE)) {
      for (int n : LENGTHS) {
        double[] a = values(n);
        double squares = 0;
        double[] scaled = new double[n];
        for (int i = 0; i < n; i++) {
          squares += a[i] * a[i];
          scaled[i] = a[i] * 0.375;
        }
        INDArray x = array(a, type);
        assertEquals(squares, FusedOps.sumOfSquares(x), tolerance(type) * squares, type + " n=" + n);
        FusedOps.scale(x, 0.375);
        assertElements(scaled, x, tolerance(type));
      }
    }
  }

  @Test
  void adamWIsPyTorchsRuleStepByStep() {
    double lr = 0.01, wd = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    for (DataType type : List.of(DataType.FLOAT, DataType.DOUBLE)) {
      for (int n : LENGTHS) {
        double[] p = values(n);
        double[] m = new double[n];
        double[] v = new double[n];
        INDArray pa = array(p, type);
        INDArray ma = Nd4j.zeros(type, n);
        INDArray va = Nd4j.zeros(type, n);
        for (int t = 1; t <= 3; t++) {
          double[] g = values(n);
          for (int i = 0; i < n; i++) {
            p[i] *= 1 - lr * wd;
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            p[i] -= lr * (m[i] / (1 - Math.pow(b1, t))) / (Math.sqrt(v[i] / (1 - Math.pow(b2, t))) + eps);
          }
          FusedOps.adamW(pa, array(g, type), ma, va, lr, wd, b1, b2, eps, t);
        }
        assertElements(p, pa, 1e-6);
        assertElements(m, ma, tolerance(type));
        assertElements(v, va, tolerance(type));
      }
    }
  }

  @Test
  void aContiguousViewIsUpdatedInPlaceAndItsNeighboursAreNot() {
    INDArray whole = Nd4j.ones(DataType.FLOAT, 5, 40);
    INDArray rows = whole.get(NDArrayIndex.interval(1, 3), NDArrayIndex.all()); // offset 40, contiguous
    FusedOps.scale(rows, 3);
    FusedOps.sumInto(rows, List.of(Nd4j.ones(DataType.FLOAT, 2, 40)), 2);
    assertEquals(80 * 2.0 * 2.0, FusedOps.sumOfSquares(rows), 1e-9);
    for (int r = 0; r < 5; r++) {
      for (int c = 0; c < 40; c++) {
        assertEquals(r == 1 || r == 2 ? 2.0 : 1.0, whole.getDouble(r, c), 0, "(" + r + ", " + c + ")");
      }
    }
  }

  @Test
  void stridedViewsTakeTheNd4jPath() {
    INDArray whole = Nd4j.createFromArray(new float[][] {{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}});
    INDArray column = whole.get(NDArrayIndex.all(), NDArrayIndex.point(1)); // 2, 6, 10
    assertEquals(4 + 36 + 100, FusedOps.sumOfSquares(column), 1e-4);
    FusedOps.scale(column, 0.5);
    assertElements(new double[] {1, 1, 3, 4, 5, 3, 7, 8, 9, 5, 11, 12}, whole.reshape(12), 0);
    INDArray transposed = Nd4j.createFromArray(new float[][] {{1, 2}, {3, 4}}).transpose(); // [[1, 3], [2, 4]]
    INDArray p = Nd4j.zeros(DataType.FLOAT, 2, 2);
    FusedOps.sumInto(p, List.of(transposed), 1);
    assertElements(new double[] {1, 3, 2, 4}, p.reshape(4), 0);
  }
}
