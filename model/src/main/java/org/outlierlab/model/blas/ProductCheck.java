package org.outlierlab.model.blas;

import java.util.Locale;
import java.util.Random;
import java.util.function.BinaryOperator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The check every BLAS choice passes before any work runs: a small float product against a double reference. */
final class ProductCheck {
  private ProductCheck() {}

  /**
   * A float product {@code (xᵀ)(yᵀ)} (ND4J's BLAS in use), both operands transposed and of odd sizes (the vector
   * kernels' edges), against a double reference: the largest error relative to Σ|a||b|. Fails above float rounding.
   */
  static double relativeError(BinaryOperator<INDArray> transposedProduct) {
    int m = 67;
    int k = 45;
    int n = 33;
    Random random = new Random(7);
    double[][] a = new double[k][m];
    double[][] b = new double[n][k];
    INDArray at = Nd4j.create(DataType.FLOAT, k, m);
    INDArray bt = Nd4j.create(DataType.FLOAT, n, k);
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < m; j++) {
        a[i][j] = (float) random.nextGaussian();
        at.putScalar(i, j, a[i][j]);
      }
    }
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < k; j++) {
        b[i][j] = (float) random.nextGaussian();
        bt.putScalar(i, j, b[i][j]);
      }
    }
    INDArray c = transposedProduct.apply(at, bt); // (aᵀ)(bᵀ): m × n
    double worst = 0;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < n; j++) {
        double exact = 0;
        double scale = 0;
        for (int p = 0; p < k; p++) {
          exact += a[p][i] * b[j][p];
          scale += Math.abs(a[p][i] * b[j][p]);
        }
        worst = Math.max(worst, Math.abs(c.getDouble(i, j) - exact) / scale);
      }
    }
    if (!(worst < 1e-5)) {
      throw new IllegalStateException(String.format(Locale.ROOT, "the BLAS library computes a wrong product (relative "
          + "error %.2e on a %dx%dx%d check); run with blas.kernels = openblas", worst, m, k, n));
    }
    return worst;
  }
}
