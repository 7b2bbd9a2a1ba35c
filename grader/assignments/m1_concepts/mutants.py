"""Common misconceptions in m1_concepts, each losing exactly its question, with the feedback that names it."""

from grader.examples import Mutant, Partial

MUTANTS = [
    Mutant("multitask_is_transfer", "Q1", 'Q1 = "d"', 'Q1 = "a"', ("answer[Q1]",), ("multi-task",)),
    Mutant("fewest_parameters_generalise", "Q2", 'Q2 = "b"', 'Q2 = "c"', ("answer[Q2]",), ("textbook rule",)),
    Mutant("pretraining_always_wins", "Q3", 'Q3 = "c"', 'Q3 = "a"', ("answer[Q3]",), ("frozen features are last",)),
    Mutant("scratch_for_far_domains", "Q4", 'Q4 = "a"', 'Q4 = "b"', ("answer[Q4]",), ("early layers",)),
    Mutant("drop_the_source", "Q5", 'Q5 = "b"', 'Q5 = "a"', ("answer[Q5]",), ("fine-tuned helps",)),
    Mutant("gap_sign_flipped", "Q6", "Q6 = 0.142", "Q6 = -0.142", ("answer[Q6]",), ("subtracted the other way",)),
    Mutant("concept_shift", "Q7", 'Q7 = "c"', 'Q7 = "a"', ("answer[Q7]",), ("rule from image to label is the same",)),
    Mutant(
        "full_matrix_times_rank", "Q8", "Q8 = 65_536", "Q8 = 8 * 4096 * 4096", ("answer[Q8]",), ("r full matrices",)
    ),
    Mutant("forgot_the_head", "Q9", "Q9 = 886_274", "Q9 = 884_736", ("answer[Q9]",), ("new head",)),
    Mutant(
        "parameter_share_is_time_share", "Q10", 'Q10 = "a"', 'Q10 = "b"', ("answer[Q10]",), ("share of computation",)
    ),
    Mutant("frozen_means_nothing_moves", "Q11", 'Q11 = "d"', 'Q11 = "a"', ("answer[Q11]",), ("no gradient",)),
    Mutant("one_seeds_tau_means_it_works", "Q12", 'Q12 = "c"', 'Q12 = "a"', ("answer[Q12]",), ("random ranking",)),
]

PARTIAL = Partial(mutants=("forgot_the_head", "concept_shift"), unimplemented=("Q12",))
