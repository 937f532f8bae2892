package org.outlierlab.metrics;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * {@link GramKernel} with the JDK's vector API: each pass over row j of the triangle updates a SIMD register's
 * width of entries with eight fused multiply-adds (2.5× the scalar loop at d = 256 on AVX2). Loaded only through
 * {@link GramKernel#best}, when the jdk.incubator.vector module is present.
 */
final class VectorGram implements GramKernel {
  private static final VectorSpecies<Double> SPECIES = DoubleVector.SPECIES_PREFERRED;

  @Override
  public void add(double[] gram, double[][] x, int d) {
    // written out for the eight rows: the vectors must stay in registers, which an array of them would prevent
    double[] x0 = x[0];
    double[] x1 = x[1];
    double[] x2 = x[2];
    double[] x3 = x[3];
    double[] x4 = x[4];
    double[] x5 = x[5];
    double[] x6 = x[6];
    double[] x7 = x[7];
    int width = SPECIES.length();
    for (int j = 0; j < d; j++) {
      DoubleVector c0 = DoubleVector.broadcast(SPECIES, x0[j]);
      DoubleVector c1 = DoubleVector.broadcast(SPECIES, x1[j]);
      DoubleVector c2 = DoubleVector.broadcast(SPECIES, x2[j]);
      DoubleVector c3 = DoubleVector.broadcast(SPECIES, x3[j]);
      DoubleVector c4 = DoubleVector.broadcast(SPECIES, x4[j]);
      DoubleVector c5 = DoubleVector.broadcast(SPECIES, x5[j]);
      DoubleVector c6 = DoubleVector.broadcast(SPECIES, x6[j]);
      DoubleVector c7 = DoubleVector.broadcast(SPECIES, x7[j]);
      int base = j * d;
      int k = j - j % width; // from the aligned lane group holding the diagonal: below it is harmless, unread
      for (; k + width <= d; k += width) {
        DoubleVector acc = DoubleVector.fromArray(SPECIES, gram, base + k);
        acc = DoubleVector.fromArray(SPECIES, x0, k).fma(c0, acc);
        acc = DoubleVector.fromArray(SPECIES, x1, k).fma(c1, acc);
        acc = DoubleVector.fromArray(SPECIES, x2, k).fma(c2, acc);
        acc = DoubleVector.fromArray(SPECIES, x3, k).fma(c3, acc);
        acc = DoubleVector.fromArray(SPECIES, x4, k).fma(c4, acc);
        acc = DoubleVector.fromArray(SPECIES, x5, k).fma(c5, acc);
        acc = DoubleVector.fromArray(SPECIES, x6, k).fma(c6, acc);
        acc = DoubleVector.fromArray(SPECIES, x7, k).fma(c7, acc);
        acc.intoArray(gram, base + k);
      }
      ScalarGram.addRow(gram, x, d, j, k); // the entries past the last whole lane group
    }
  }
}
