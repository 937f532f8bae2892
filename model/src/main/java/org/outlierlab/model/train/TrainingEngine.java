package org.outlierlab.model.train;

import java.util.List;
import java.util.Set;

/**
 * What trains the {@link Trainer}'s model: one process ({@link Worker}) or workers whose parameters are averaged
 * (the Spark job). A call trains a range of global steps from the model's current state and leaves the trained
 * (for several workers, averaged) parameters and optimiser state in the Trainer's model and optimiser.
 */
public interface TrainingEngine {
  /**
   * Trains global steps [from, to) and returns one result per step (losses and gradient norms averaged over the
   * workers), capturing {@code capture} sites at step {@code from} only (the probe sequences of its batch).
   */
  List<TrainStep.Result> train(long from, long to, Set<String> capture);

  /** The most steps one call may train: the averaging frequency, or unbounded for a single process. */
  long maxStepsPerCall();

  /** How many workers train each step (each on its own batch of train.batch_size sequences). */
  int workers();

  /** The inputs of the first worker's batch at {@code step} (OP's α is calibrated on step 0's). */
  int[][] firstWorkerInputs(long step);
}
