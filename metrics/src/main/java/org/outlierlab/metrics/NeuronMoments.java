package org.outlierlab.metrics;

import java.io.Serializable;

/**
 * {@link Requirement#NEURON_MOMENTS}: Σ_i x_ij and Σ_i x_ij² per neuron j (the first is also the row-sum vector
 * Σ_i x_i), Σ_i ‖x_i‖² and Σ_i ‖x_i‖⁴.
 */
final class NeuronMoments implements Serializable {
  final double[] sum;
  final double[] sumSquares;
  double norm2;
  double norm4;

  NeuronMoments(int d) {
    sum = new double[d];
    sumSquares = new double[d];
  }

  /** Adds the row; returns its sum Σ_j x_ij, which the width-centred accumulators need. */
  double add(float[] row) {
    double rowNorm2 = 0;
    double rowSum = 0;
    for (int j = 0; j < row.length; j++) {
      double x = row[j];
      sum[j] += x;
      sumSquares[j] += x * x;
      rowNorm2 += x * x;
      rowSum += x;
    }
    norm2 += rowNorm2;
    norm4 += rowNorm2 * rowNorm2;
    return rowSum;
  }

  /** Σ_j x_ij, for when the moments are not kept. */
  static double rowSum(float[] row) {
    double rowSum = 0;
    for (float x : row) {
      rowSum += x;
    }
    return rowSum;
  }

  void merge(NeuronMoments o) {
    for (int j = 0; j < sum.length; j++) {
      sum[j] += o.sum[j];
      sumSquares[j] += o.sumSquares[j];
    }
    norm2 += o.norm2;
    norm4 += o.norm4;
  }

  /** Each neuron's variance over the n rows: Σ_i x_ij² / n − (Σ_i x_ij / n)². */
  double[] variances(long n) {
    double[] var = new double[sum.length];
    for (int j = 0; j < sum.length; j++) {
      double mean = sum[j] / n;
      var[j] = sumSquares[j] / n - mean * mean;
    }
    return var;
  }
}
