package org.outlierlab.metrics;

import java.io.Serializable;
import java.util.Arrays;

/**
 * {@link Requirement#FEATURE_GRAM}: F = Σ_i x_i x_iᵀ (d×d, row-major; only k ≥ j is accumulated, F being
 * symmetric). Rows are added {@value #BLOCK} at a time, so that each pass over the d²/2 entries (which do not fit
 * in the core's fastest caches for d ≥ 256) does {@value #BLOCK} rows' work.
 */
final class FeatureGram implements Serializable {
  private static final int BLOCK = GramKernel.ROWS;
  private static final GramKernel KERNEL = GramKernel.best();
  private final int d;
  private final double[] gram;
  /** Rows not yet in the Gram. */
  private final double[][] pending;
  private int pendingRows;

  FeatureGram(int d) {
    this.d = d;
    gram = new double[d * d];
    pending = new double[BLOCK][d];
  }

  /** The kernel in this JVM: "VectorGram" (SIMD) or "ScalarGram". */
  static String kernel() {
    return KERNEL.getClass().getSimpleName();
  }

  void add(float[] row) {
    double[] x = pending[pendingRows++];
    for (int j = 0; j < d; j++) {
      x[j] = row[j];
    }
    if (pendingRows == BLOCK) {
      flush();
    }
  }

  /** Adds the pending rows to the Gram: F_jk += Σ_r x_rj·x_rk for k ≥ j, a block of rows per pass. */
  private void flush() {
    if (pendingRows == 0) {
      return;
    }
    for (int r = pendingRows; r < BLOCK; r++) {
      Arrays.fill(pending[r], 0); // zero rows add nothing
    }
    KERNEL.add(gram, pending, d);
    pendingRows = 0;
  }

  void merge(FeatureGram o) {
    flush();
    o.flush();
    for (int i = 0; i < gram.length; i++) {
      gram[i] += o.gram[i];
    }
  }

  /** (F1)_j / d: the mean of each row of F, from its upper triangle. */
  double[] rowMeans() {
    flush();
    double[] rowMeans = new double[d];
    for (int j = 0; j < d; j++) {
      for (int k = j; k < d; k++) {
        double g = gram[j * d + k];
        rowMeans[j] += g;
        if (k != j) {
          rowMeans[k] += g;
        }
      }
    }
    for (int j = 0; j < d; j++) {
      rowMeans[j] /= d;
    }
    return rowMeans;
  }

  /**
   * {Σ_j E_jj², Σ_{j≠k} E_jk²} of E = F − a1ᵀ − 1aᵀ + b·11ᵀ: F itself for a = 0 and b = 0, the width-centred Gram
   * (I − 11ᵀ/d) F (I − 11ᵀ/d) for a = F1/d and b = 1ᵀF1/d². Deriving the centred Gram costs O(d²) instead of a
   * second O(N·d²) accumulation; the subtraction loses digits only in proportion to (common offset / spread)² of
   * the rows: about 1e-12 relative for an offset 100 times the spread.
   */
  double[] squares(double[] a, double b) {
    flush();
    double diag = 0;
    double offDiag = 0;
    for (int j = 0; j < d; j++) {
      for (int k = j; k < d; k++) {
        double e = gram[j * d + k] - a[j] - a[k] + b; // stored once for the pair (j, k)
        if (j == k) {
          diag += e * e;
        } else {
          offDiag += 2 * e * e;
        }
      }
    }
    return new double[] {diag, offDiag};
  }
}
