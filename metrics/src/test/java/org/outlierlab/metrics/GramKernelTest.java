package org.outlierlab.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Both Gram kernels against the plain triple loop, for widths that do and do not fill whole SIMD registers. */
class GramKernelTest {
  @Test
  void bothKernelsAddTheBlockToTheUpperTriangle() {
    for (GramKernel kernel : List.of(new GramKernel.ScalarGram(), new VectorGram())) {
      for (int d : new int[] {1, 3, 13, 64, 257}) {
        Random random = new Random(d);
        double[][] rows = new double[GramKernel.ROWS][d];
        double[] gram = new double[d * d];
        for (int i = 0; i < gram.length; i++) {
          gram[i] = random.nextGaussian(); // an accumulator already holding something
        }
        double[] expected = gram.clone();
        for (double[] row : rows) {
          for (int j = 0; j < d; j++) {
            row[j] = random.nextGaussian();
          }
        }
        for (int j = 0; j < d; j++) {
          for (int k = j; k < d; k++) {
            for (double[] row : rows) {
              expected[j * d + k] += row[j] * row[k];
            }
          }
        }
        kernel.add(gram, rows, d);
        for (int j = 0; j < d; j++) {
          for (int k = j; k < d; k++) {
            assertEquals(expected[j * d + k], gram[j * d + k], 1e-12 * (1 + Math.abs(expected[j * d + k])),
                kernel.getClass().getSimpleName() + " d=" + d + " (" + j + ", " + k + ")");
          }
        }
      }
    }
  }

  /** The tests run with the vector module (the parent pom's surefire flags), so LayerStats uses the SIMD kernel. */
  @Test
  void theVectorKernelIsChosenWhereTheModuleIsPresent() {
    assertInstanceOf(VectorGram.class, GramKernel.best());
  }
}
