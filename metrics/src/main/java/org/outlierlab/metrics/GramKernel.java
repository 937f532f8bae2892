package org.outlierlab.metrics;

/**
 * Adds a block of {@link #ROWS} rows x_r to the upper triangle of a row-major d×d Gram: G_jk += Σ_r x_rj·x_rk for
 * k ≥ j (entries below the diagonal may change too; they are never read). The feature Gram is the metrics job's
 * costliest statistic (O(d²) a row), hence a SIMD kernel where the JVM offers one.
 */
interface GramKernel {
  int ROWS = 8;

  void add(double[] gram, double[][] rows, int d);

  /**
   * The SIMD kernel ({@link VectorGram}) when the JVM runs with {@code --add-modules=jdk.incubator.vector} (bin/oflab
   * passes it to the metrics job), else the scalar one: HotSpot does not vectorise the scalar loop, which loads
   * from several double[] and stores into another that might alias them.
   */
  static GramKernel best() {
    if (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()) {
      try {
        return (GramKernel) Class.forName("org.outlierlab.metrics.VectorGram").getDeclaredConstructor().newInstance();
      } catch (ReflectiveOperationException | LinkageError e) {
        return new ScalarGram();
      }
    }
    return new ScalarGram();
  }

  /** The plain loop: eight rows per pass over the triangle, so the triangle is read and written once per eight. */
  final class ScalarGram implements GramKernel {
    @Override
    public void add(double[] gram, double[][] x, int d) {
      for (int j = 0; j < d; j++) {
        addRow(gram, x, d, j, j);
      }
    }

    /** G_jk += Σ_r x_rj·x_rk for k from {@code from} to d − 1: row j of the triangle, or the rest of it. */
    static void addRow(double[] gram, double[][] x, int d, int j, int from) {
      double[] x0 = x[0];
      double[] x1 = x[1];
      double[] x2 = x[2];
      double[] x3 = x[3];
      double[] x4 = x[4];
      double[] x5 = x[5];
      double[] x6 = x[6];
      double[] x7 = x[7];
      double c0 = x0[j];
      double c1 = x1[j];
      double c2 = x2[j];
      double c3 = x3[j];
      double c4 = x4[j];
      double c5 = x5[j];
      double c6 = x6[j];
      double c7 = x7[j];
      int base = j * d;
      for (int k = from; k < d; k++) {
        gram[base + k] += c0 * x0[k] + c1 * x1[k] + c2 * x2[k] + c3 * x3[k]
            + c4 * x4[k] + c5 * x5[k] + c6 * x6[k] + c7 * x7[k];
      }
    }
  }
}
