package org.outlierlab.model.blas;

import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Runs a test suite on the BLAS path that the system property {@value #PROPERTY} names (the model module's surefire
 * runs its tests once per path), chosen before any test loads ND4J. A path this machine cannot run (a core whose
 * instruction sets the CPU lacks, MKL where it is not installed) disables the suite with the reason, so each
 * machine tests every path it supports. Registered for every test through JUnit's extension auto-detection.
 */
public final class BlasUnderTest implements ExecutionCondition {
  static final String PROPERTY = "oflab.blas.kernels";
  private static ConditionEvaluationResult result;

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    synchronized (BlasUnderTest.class) {
      if (result == null) {
        result = choose(System.getProperty(PROPERTY));
      }
      return result;
    }
  }

  private static ConditionEvaluationResult choose(String setting) {
    if (setting == null) {
      return ConditionEvaluationResult.enabled("no BLAS path asked for");
    }
    try {
      BlasKernels.validate(setting);
    } catch (IllegalArgumentException e) {
      return ConditionEvaluationResult.disabled("not on this machine: " + e.getMessage());
    }
    return ConditionEvaluationResult.enabled("on " + BlasKernels.apply(setting).describe());
  }
}
