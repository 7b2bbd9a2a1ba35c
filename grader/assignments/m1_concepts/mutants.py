"""Common misconceptions in m1_concepts, each losing exactly its question."""

from grader.examples import Mutant, Partial

MUTANTS = [
    Mutant("multitask_is_transfer", "Q1", 'Q1 = "b"', 'Q1 = "a"', ("answer[Q1]",)),
    Mutant("pretrained_cannot_overfit", "Q2", 'Q2 = "a"', 'Q2 = "c"', ("answer[Q2]",)),
    Mutant("fine_tune_everything_on_300", "Q3", 'Q3 = "b"', 'Q3 = "c"', ("answer[Q3]",)),
    Mutant("freeze_with_two_million", "Q4", 'Q4 = "b"', 'Q4 = "a"', ("answer[Q4]",)),
    Mutant("scratch_on_500", "Q5", 'Q5 = "a"', 'Q5 = "b"', ("answer[Q5]",)),
    Mutant("concept_shift", "Q6", 'Q6 = "b"', 'Q6 = "a"', ("answer[Q6]",)),
    Mutant("forgot_the_head", "Q7", "Q7 = 886_274", "Q7 = 884_736", ("answer[Q7]",)),
    Mutant("full_matrix_times_rank", "Q8", "Q8 = 65_536", "Q8 = 8 * 4096 * 4096", ("answer[Q8]",)),
    Mutant("forgetting_is_negative_transfer", "Q9", 'Q9 = "b"', 'Q9 = "a"', ("answer[Q9]",)),
    Mutant("freezing_does_not_help", "Q10", 'Q10 = "d"', 'Q10 = "a"', ("answer[Q10]",)),
    Mutant("gap_sign_flipped", "Q11", "Q11 = 0.05", "Q11 = -0.05", ("answer[Q11]",)),
    Mutant("negative_transfer_is_forgetting", "Q12", 'Q12 = "a"', 'Q12 = "d"', ("answer[Q12]",)),
]

PARTIAL = Partial(mutants=("forgot_the_head", "concept_shift"), unimplemented=("Q12",))
