package org.outlierlab.model.optim;

import java.util.LinkedHashMap;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * SOAP (Vyas et al. 2024; SCIENCE.md §3.1): Adam run in the eigenbasis of Shampoo's preconditioner. For a matrix G
 * (m×n) it keeps L ← βs·L + (1−βs)·G Gᵀ and R ← βs·R + (1−βs)·Gᵀ G with orthonormal bases Q_L, Q_R of their
 * approximate eigenvectors, and Adam's moments of G' = Q_Lᵀ G Q_R in that basis; the update is
 * Q_L (m̂'/(√v̂' + ε)) Q_Rᵀ with bias correction, after decoupled weight decay on matrices.
 *
 * <ul>
 *   <li>A parameter's first step builds L, R and the bases (full eigendecomposition) and makes no update; steps are
 *       counted from the next call, as in the reference.
 *   <li>Every {@code preconditionFrequency} steps each basis is refreshed by one power iteration and QR,
 *       Q ← qr(P·Q).Q, after sorting its columns by estimated eigenvalue; v's matching axis is re-ordered the same
 *       way, and m (kept in the current basis) is rotated into the new one.
 *   <li>Vectors and scalars, and any axis longer than {@code maxPrecondDim}, are not rotated (identity on that
 *       side): a vector gets plain Adam, exactly {@link AdamW}'s (so does a matrix whose axes are all too long).
 * </ul>
 * Two details follow this project's {@link AdamW} rather than soap.py, so that unrotated parameters get exactly
 * AdamW's update: ε is added to √v̂ (soap.py adds it to √v, i.e. ε/√(1−β2^t) here) and weight decay is applied
 * before the update (soap.py: after, p ← p − lr·wd·p on the updated p). Both differ by O(ε) and O(lr²·wd).
 *
 * <p>Parameter averaging: m, v, L, R and the step are averaged; the bases are not averaged. A basis every worker
 * shared (one worker, or no refresh inside the round) is kept as it is; otherwise it is recomputed from the
 * averaged factors by a full eigendecomposition and the averaged m re-expressed in it ({@link ShampooBasis#settle}).
 *
 * <p>State: {@code m/}, {@code v/} (both in the basis), {@code L/}, {@code R/}, {@code QL/}, {@code QR/}, {@code step}.
 */
public final class Soap extends EigenbasisOptimizer {
  private final Map<String, INDArray> v = new LinkedHashMap<>();

  /**
   * @param shampooBeta the factors' EMA coefficient; negative: use beta2
   * @param preconditionFrequency steps between basis refreshes
   * @param maxPrecondDim longest axis that is rotated
   */
  public Soap(double beta1, double beta2, double shampooBeta, double eps, double weightDecay, int preconditionFrequency,
      int maxPrecondDim) {
    this(beta1, beta2, shampooBeta, eps, EpsPlacement.TORCH, weightDecay, preconditionFrequency, maxPrecondDim);
  }

  /** @param placement where Adam's ε goes in the eigenbasis */
  public Soap(double beta1, double beta2, double shampooBeta, double eps, EpsPlacement placement, double weightDecay,
      int preconditionFrequency, int maxPrecondDim) {
    super(beta1, beta2, shampooBeta, eps, placement, weightDecay, preconditionFrequency, maxPrecondDim);
  }

  @Override
  void startSecondMoment(String name, INDArray p) {
    v.put(name, Nd4j.zerosLike(p));
  }

  @Override
  INDArray direction(String name, INDArray g, double lr, long t) {
    return FusedOps.adamDirection(g, momentum.get(name), v.get(name), lr, beta1, beta2,
        placement.onCorrected(eps, beta2, t), t);
  }

  @Override
  void reorder(String name, int axis, int[] order) {
    ShampooBasis.permute(v.get(name), axis, order);
  }

  @Override
  Map<String, Map<String, INDArray>> secondMoments() {
    return Map.of("v", v);
  }
}
