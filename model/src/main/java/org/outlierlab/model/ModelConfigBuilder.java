package org.outlierlab.model;

import org.outlierlab.model.ModelConfig.Activation;
import org.outlierlab.model.ModelConfig.Alpha;
import org.outlierlab.model.ModelConfig.EntropyRegulation;
import org.outlierlab.model.ModelConfig.Norm;
import org.outlierlab.model.ModelConfig.Positions;

/**
 * Settings by name: a preset (or any configuration) with some switches changed, checked when built. A new switch is
 * a record component plus its field, copy, setter and argument here.
 */
public final class ModelConfigBuilder {
  private final int vocabSize;
  private final int dModel;
  private final int nLayers;
  private final int nHeads;
  private final int seqLen;
  private Norm norm = Norm.LN;
  private boolean normBeforeQk;
  private boolean normBeforeV;
  private boolean normBeforeMlp;
  private boolean normAfterResidual;
  private boolean finalNorm;
  private EntropyRegulation entropyRegulation = EntropyRegulation.NONE;
  private double beta = 1.0;
  private boolean betaTrainable;
  private Alpha alpha = Alpha.NONE;
  private Activation activation = Activation.RELU;
  private Positions positions = Positions.LEARNED;
  private boolean tiedEmbeddings;
  private double embeddingScale = ModelConfig.PAPER_EMBEDDING_SCALE;
  private double initStd = 0.02;
  private double normEps = 1e-5;

  /**
   * The shape, every switch at the default all blocks share: no norm layer (LN the kind the switches would turn on),
   * no entropy regulation, a constant β = 1, no α, ReLU, learned positions, untied embeddings ×50, σ = 0.02, ε = 1e-5.
   */
  ModelConfigBuilder(int vocabSize, int dModel, int nLayers, int nHeads, int seqLen) {
    this.vocabSize = vocabSize;
    this.dModel = dModel;
    this.nLayers = nLayers;
    this.nHeads = nHeads;
    this.seqLen = seqLen;
  }

  ModelConfigBuilder(ModelConfig c) {
    this(c.vocabSize(), c.dModel(), c.nLayers(), c.nHeads(), c.seqLen());
    norm = c.norm();
    normBeforeQk = c.normBeforeQk();
    normBeforeV = c.normBeforeV();
    normBeforeMlp = c.normBeforeMlp();
    normAfterResidual = c.normAfterResidual();
    finalNorm = c.finalNorm();
    entropyRegulation = c.entropyRegulation();
    beta = c.beta();
    betaTrainable = c.betaTrainable();
    alpha = c.alpha();
    activation = c.activation();
    positions = c.positions();
    tiedEmbeddings = c.tiedEmbeddings();
    embeddingScale = c.embeddingScale();
    initStd = c.initStd();
    normEps = c.normEps();
  }

  public ModelConfigBuilder norm(Norm value) {
    norm = value;
    return this;
  }

  public ModelConfigBuilder normBeforeQk(boolean value) {
    normBeforeQk = value;
    return this;
  }

  public ModelConfigBuilder normBeforeV(boolean value) {
    normBeforeV = value;
    return this;
  }

  public ModelConfigBuilder normBeforeMlp(boolean value) {
    normBeforeMlp = value;
    return this;
  }

  public ModelConfigBuilder normAfterResidual(boolean value) {
    normAfterResidual = value;
    return this;
  }

  public ModelConfigBuilder finalNorm(boolean value) {
    finalNorm = value;
    return this;
  }

  public ModelConfigBuilder entropyRegulation(EntropyRegulation value) {
    entropyRegulation = value;
    return this;
  }

  public ModelConfigBuilder beta(double value) {
    beta = value;
    return this;
  }

  public ModelConfigBuilder betaTrainable(boolean value) {
    betaTrainable = value;
    return this;
  }

  public ModelConfigBuilder alpha(Alpha value) {
    alpha = value;
    return this;
  }

  public ModelConfigBuilder activation(Activation value) {
    activation = value;
    return this;
  }

  public ModelConfigBuilder positions(Positions value) {
    positions = value;
    return this;
  }

  public ModelConfigBuilder tiedEmbeddings(boolean value) {
    tiedEmbeddings = value;
    return this;
  }

  public ModelConfigBuilder embeddingScale(double value) {
    embeddingScale = value;
    return this;
  }

  public ModelConfigBuilder initStd(double value) {
    initStd = value;
    return this;
  }

  public ModelConfigBuilder normEps(double value) {
    normEps = value;
    return this;
  }

  public ModelConfig build() {
    return new ModelConfig(vocabSize, dModel, nLayers, nHeads, seqLen, norm, normBeforeQk, normBeforeV,
        normBeforeMlp, normAfterResidual, finalNorm, entropyRegulation, beta, betaTrainable, alpha, activation,
        positions, tiedEmbeddings, embeddingScale, initStd, normEps);
  }
}
