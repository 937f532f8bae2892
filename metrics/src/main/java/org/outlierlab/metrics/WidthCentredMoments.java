package org.outlierlab.metrics;

import java.io.Serializable;

/**
 * {@link Requirement#WIDTH_CENTRED_MOMENTS}, of the rows centred across the width (x_c,i = x_i − mean_j(x_ij)·1, as
 * the released code centres each token): Σ_i x_c,ij² per neuron j, Σ_i mean_j x_ij (with the uncentred row-sum
 * vector it gives the centred rows' sum vector) and Σ_i ‖x_c,i‖⁴.
 */
final class WidthCentredMoments implements Serializable {
  final double[] sumSquares;
  double rowMeanSum;
  double norm4;

  WidthCentredMoments(int d) {
    sumSquares = new double[d];
  }

  void add(float[] row, double rowMean) {
    rowMeanSum += rowMean;
    double rowNorm2 = 0;
    for (int j = 0; j < row.length; j++) {
      double c = row[j] - rowMean;
      sumSquares[j] += c * c;
      rowNorm2 += c * c;
    }
    norm4 += rowNorm2 * rowNorm2;
  }

  void merge(WidthCentredMoments o) {
    for (int j = 0; j < sumSquares.length; j++) {
      sumSquares[j] += o.sumSquares[j];
    }
    rowMeanSum += o.rowMeanSum;
    norm4 += o.norm4;
  }
}
