package org.outlierlab.model.optim;

/**
 * Where Adam's ε enters the update ({@code train.eps_placement}), for AdamW, AdaFactor and SOAP's Adam in the
 * eigenbasis. The two differ only while the bias correction 1−β2^t is far from 1, and by more the larger ε is:
 * the paper's ε sweeps are where the choice shows.
 */
public enum EpsPlacement {
  /** PyTorch's AdamW: lr·m̂/(√v̂ + ε), ε after the bias correction. */
  TORCH,
  /**
   * Hugging Face's AdamW, which the paper's code uses: lr·(√(1−β2^t)/(1−β1^t))·m/(√v + ε), ε on the uncorrected
   * √v. That is lr·m̂/(√v̂ + ε/√(1−β2^t)): PyTorch's form with a larger ε early on.
   */
  HF;

  /** The ε to add to the bias-corrected √v̂ at 1-based step {@code t} that gives this placement's update. */
  public double onCorrected(double eps, double beta2, long t) {
    return this == TORCH ? eps : eps / Math.sqrt(1 - Math.pow(beta2, t));
  }
}
