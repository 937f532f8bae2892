package org.outlierlab.model;

import java.io.Serializable;

/**
 * A decoder-only transformer: its shape and every architectural switch of SCIENCE.md §2. A {@link Block} preset
 * sets the norm switches; each switch can then be changed on its own, by name ({@link ModelConfigBuilder}: the
 * paper's Table 3 ablations).
 *
 * @param norm the kind of every norm layer the switches enable
 * @param normBeforeQk a norm on the input of the Q and K projections (Pre-Norm attention)
 * @param normBeforeV a norm on the input of the V projection (shared with the Q/K one when both are on)
 * @param normBeforeMlp a norm on the input of the MLP
 * @param normAfterResidual Post-Norm: a norm after each residual addition
 * @param entropyRegulation what keeps attention entropy from collapsing: QK-Norm, a tanh soft cap, or nothing
 * @param beta the scale of each residual branch before it is added (1 = standard)
 * @param betaTrainable whether beta is a trained scalar (one per branch) rather than a constant
 * @param alpha OP's MLP input scale: a frozen constant per layer that makes the pre-activation unit-RMS at init,
 *     measured on the first batch or predicted by the signal-propagation recursion ({@link AlphaRecursion})
 * @param embeddingScale the token embedding is multiplied by this (the presets: 50 for every block, which makes the mean
 *     squared input 1 at 0.02 init; learned positions are added unscaled)
 */
public record ModelConfig(
    int vocabSize,
    int dModel,
    int nLayers,
    int nHeads,
    int seqLen,
    Norm norm,
    boolean normBeforeQk,
    boolean normBeforeV,
    boolean normBeforeMlp,
    boolean normAfterResidual,
    boolean finalNorm,
    EntropyRegulation entropyRegulation,
    double beta,
    boolean betaTrainable,
    Alpha alpha,
    Activation activation,
    Positions positions,
    boolean tiedEmbeddings,
    double embeddingScale,
    double initStd,
    double normEps)
    implements Serializable {

  /** The paper's block types; each is a setting of the norm switches, beta and entropy regulation ({@link #preset}). */
  public enum Block {
    PRE_LN,
    POST_LN,
    PRE_RMS,
    PRE_SRMS,
    OP
  }

  /** LN: mean and variance, trainable gain and bias. RMS: x / (rms + eps), trainable gain. SRMS: RMS without gain. */
  public enum Norm {
    LN,
    RMS,
    SRMS
  }

  public enum EntropyRegulation {
    QK_NORM,
    TANH,
    NONE
  }

  /** How OP's α is set at initialisation, if the model has one. */
  public enum Alpha {
    NONE,
    MEASURED,
    RECURSION
  }

  public enum Activation {
    RELU,
    GELU
  }

  public enum Positions {
    LEARNED,
    ROPE,
    NONE
  }

  public static final double TANH_CAP = 30.0;

  /**
   * The paper's token-embedding multiplier for every block (its Appendix B): 50 · 0.02 = 1, so the mean squared input
   * is 1 at initialisation. Learned positions are not scaled: scaling them too would make it 2.
   */
  public static final double PAPER_EMBEDDING_SCALE = 50.0;

  public ModelConfig {
    require(vocabSize >= 2 && dModel >= 2 && nLayers >= 1 && seqLen >= 1, "sizes must be positive");
    require(nHeads >= 1 && dModel % nHeads == 0, "d_model " + dModel + " must be a multiple of n_heads " + nHeads);
    require(positions != Positions.ROPE || (dModel / nHeads) % 2 == 0, "RoPE needs an even head size");
    require(beta > 0, "beta must be positive");
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException("model: " + message);
    }
  }

  /** Whether the MLPs have OP's α. */
  public boolean hasAlpha() {
    return alpha != Alpha.NONE;
  }

  public int headSize() {
    return dModel / nHeads;
  }

  public int mlpWidth() {
    return 4 * dModel;
  }

  /**
   * The parameters of the matrices and embeddings (norm gains, biases and scales left out, under 1% at any shape
   * used here): the size that compute budgets (6 x parameters x tokens) and memory estimates count.
   */
  public long matrixParameters() {
    long d = dModel;
    long perLayer = 4 * d * d + 2 * d * mlpWidth();
    long learnedPositions = positions == Positions.LEARNED ? (long) seqLen * d : 0;
    return nLayers * perLayer + (tiedEmbeddings ? 1 : 2) * (long) vocabSize * d + learnedPositions;
  }

  /** These settings as a builder, to change some of them by name. */
  public ModelConfigBuilder toBuilder() {
    return new ModelConfigBuilder(this);
  }

  /** A preset: the block's recipe ({@link #preset}) with nothing changed. */
  public static ModelConfig of(Block block, int vocabSize, int dModel, int nLayers, int nHeads, int seqLen) {
    return preset(block, vocabSize, dModel, nLayers, nHeads, seqLen).build();
  }

  /**
   * A block's recipe, one arm each, on the defaults every block shares ({@link ModelConfigBuilder}'s: the paper's
   * CodeParrot setup). In the recipes h is the residual stream, A attention and M(x) = W₂ φ(W₁ x) the MLP.
   */
  public static ModelConfigBuilder preset(Block block, int vocabSize, int dModel, int nLayers, int nHeads, int seqLen) {
    ModelConfigBuilder shared = new ModelConfigBuilder(vocabSize, dModel, nLayers, nHeads, seqLen);
    return switch (block) {
      // h ← h + A(LN(h)); h ← h + M(LN(h))
      case PRE_LN -> preNorms(shared, Norm.LN);
      // the same with RMSNorm
      case PRE_RMS -> preNorms(shared, Norm.RMS);
      // the same with RMSNorm without gain
      case PRE_SRMS -> preNorms(shared, Norm.SRMS);
      // h ← LN(h + A(h)); h ← LN(h + M(h))
      case POST_LN -> shared.normAfterResidual(true);
      // h ← h + β·A(h) with QK-Norm inside A; h ← h + β·W₂ φ(α·W₁ h): no norm layer, β = 0.2 on both branches, and
      // (as every block) token embeddings ×50; α only with model.alpha
      case OP -> shared.entropyRegulation(EntropyRegulation.QK_NORM).beta(0.2);
    };
  }

  private static ModelConfigBuilder preNorms(ModelConfigBuilder b, Norm norm) {
    return b.norm(norm).normBeforeQk(true).normBeforeV(true).normBeforeMlp(true);
  }
}
