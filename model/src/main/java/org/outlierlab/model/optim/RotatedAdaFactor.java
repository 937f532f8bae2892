package org.outlierlab.model.optim;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Rotated AdaFactor (SCIENCE.md §3.2; per the SOAP paper, ≈ Shampoo with exponent 1/2): {@link AdaFactor}'s rule
 * (momentum, factored second moment a·cᵀ/Σa, bias correction, decoupled weight decay on matrices) run on the rotated
 * gradient G' = Q_Lᵀ G Q_R and rotated back, with the bases kept exactly as {@link Soap} keeps them: built on a
 * parameter's first step (which makes no update), refreshed every {@code preconditionFrequency} steps by one power
 * iteration and QR, the momentum rotated into the new basis and the row and column accumulators re-ordered with it.
 * Vectors and scalars get Adam; a matrix with no axis rotated gets plain AdaFactor.
 *
 * <p>Parameter averaging: as {@link Soap}: m, the accumulators, L, R and the step are averaged, and a basis the
 * workers did not share is recomputed from the averaged factors ({@link ShampooBasis#settle}).
 *
 * <p>State: {@code m/}, {@code row/} (a, or a vector's full second moment), {@code col/} (c), {@code L/}, {@code R/},
 * {@code QL/}, {@code QR/}, {@code step}.
 */
public final class RotatedAdaFactor extends EigenbasisOptimizer {
  private final Map<String, INDArray> rows = new LinkedHashMap<>();
  private final Map<String, INDArray> cols = new LinkedHashMap<>();
  private final Map<String, Map<String, INDArray>> secondMoments = new LinkedHashMap<>();

  /** Parameters as {@link Soap#Soap}, ε after the bias correction. */
  public RotatedAdaFactor(double beta1, double beta2, double shampooBeta, double eps, double weightDecay,
      int preconditionFrequency, int maxPrecondDim) {
    this(beta1, beta2, shampooBeta, eps, EpsPlacement.TORCH, weightDecay, preconditionFrequency, maxPrecondDim);
  }

  /** Parameters as {@link Soap#Soap}. */
  public RotatedAdaFactor(double beta1, double beta2, double shampooBeta, double eps, EpsPlacement placement,
      double weightDecay, int preconditionFrequency, int maxPrecondDim) {
    super(beta1, beta2, shampooBeta, eps, placement, weightDecay, preconditionFrequency, maxPrecondDim);
    secondMoments.put("row", rows);
    secondMoments.put("col", cols);
  }

  @Override
  void startSecondMoment(String name, INDArray p) {
    if (p.rank() == 2) {
      rows.put(name, Nd4j.zeros(p.dataType(), p.size(0), 1));
      cols.put(name, Nd4j.zeros(p.dataType(), 1, p.size(1)));
    } else {
      rows.put(name, Nd4j.zerosLike(p));
    }
  }

  @Override
  INDArray direction(String name, INDArray g, double lr, long t) {
    INDArray m = momentum.get(name);
    double epsilon = placement.onCorrected(eps, beta2, t);
    if (g.rank() != 2) {
      return FusedOps.adamDirection(g, m, rows.get(name), lr, beta1, beta2, epsilon, t);
    }
    return AdaFactor.factoredDirection(g, m, rows.get(name), cols.get(name), lr, beta1, beta2, epsilon, t);
  }

  @Override
  void reorder(String name, int axis, int[] order) {
    ShampooBasis.permute(axis == 0 ? rows.get(name) : cols.get(name), axis, order);
  }

  @Override
  Map<String, Map<String, INDArray>> secondMoments() {
    return secondMoments;
  }
}
