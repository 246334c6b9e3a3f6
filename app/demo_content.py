"""The demo forum's content, as data: signposts and threads with their answers, the experts'
verdicts, votes, flags and comments. `app/demo.py` seeds it through the services.

Internal knowledge of a fictional UK insurer's customer-service teams. Links point at an
intranet that does not exist (`intranet.example`); product names and limits are made up.
"""

from dataclasses import dataclass
from textwrap import dedent
from typing import Literal

Verdict = Literal["endorse", "correct", "reject"]


def md(text: str) -> str:
    """A markdown body written indented in this file."""
    return dedent(text).strip()


@dataclass(frozen=True)
class DemoResource:
    key: str
    topic: str
    curator: str
    title: str
    url: str
    description: str


@dataclass(frozen=True)
class DemoReview:
    expert: str
    verdict: Verdict = "endorse"
    rationale: str | None = None
    correction: str | None = None
    # Keys of DemoResources of the answer's topic, or URLs.
    references: tuple[str, ...] = ()
    # Given this many days ago through the review service's clock (see `seed`): how an
    # endorsement in a topic with a review interval comes to be stale.
    days_ago: int = 0


@dataclass(frozen=True)
class DemoAnswer:
    author: str
    body: str
    reviews: tuple[DemoReview, ...] = ()
    up: tuple[str, ...] = ()
    down: tuple[str, ...] = ()
    flags: tuple[tuple[str, str], ...] = ()  # (who, reason)
    comments: tuple[tuple[str, str], ...] = ()  # (who, body)
    revised: str | None = None  # the author's own later edit, made before any review


@dataclass(frozen=True)
class DemoThread:
    author: str
    topic: str
    title: str
    body: str
    tags: tuple[str, ...]
    answers: tuple[DemoAnswer, ...] = ()
    comments: tuple[tuple[str, str], ...] = ()
    revised_title: str | None = None  # the author's own later edit of the title
    # Once its wrong answers have opened the thread's learning need: (expert, note).
    acknowledge: tuple[str, str] | None = None


DEMO_RESOURCES = (
    DemoResource(
        "handbook",
        "claims",
        "erin",
        "Claims handbook: accidental damage",
        "https://intranet.example/claims/accidental-damage",
        "What each level of cover pays for.",
    ),
    DemoResource(
        "motor-guide",
        "claims",
        "owen",
        "Motor claims guide",
        "https://intranet.example/claims/motor-guide",
        "Glass, uninsured drivers, courtesy cars, total losses and salvage categories.",
    ),
    DemoResource(
        "home-claims",
        "claims",
        "erin",
        "Home claims: water, storm and subsidence",
        "https://intranet.example/claims/home-perils",
        "Trace and access, storm conditions and the weather check, subsidence excesses.",
    ),
    DemoResource(
        "mta",
        "policy-servicing",
        "paul",
        "Mid-term adjustments, step by step",
        "https://intranet.example/servicing/mid-term-adjustments",
        "Drivers, vehicles, addresses and personal details: what to ask and what it costs.",
    ),
    DemoResource(
        "renewals",
        "policy-servicing",
        "priya",
        "Renewals, pricing rules and auto-renewal",
        "https://intranet.example/servicing/renewals",
        "Equivalent new business price, renewal invitations, opting out of auto-renewal.",
    ),
    DemoResource(
        "cancellations",
        "policy-servicing",
        "paul",
        "Cancellations and refunds",
        "https://intranet.example/servicing/cancellations",
        "Cooling-off, pro-rata refunds and the cancellation fee in the Terms of Business.",
    ),
    DemoResource(
        "procedure",
        "complaints",
        "erin",
        "Complaints handling procedure",
        "https://intranet.example/complaints/procedure",
        "Recognising, logging, investigating and closing a complaint; the time limits.",
    ),
    DemoResource(
        "letters",
        "complaints",
        "nadia",
        "Final response and SRC templates",
        "https://intranet.example/complaints/letter-templates",
        "Approved wording, including the Financial Ombudsman Service referral rights.",
    ),
    DemoResource(
        "secure-payments",
        "payments",
        "priya",
        "Taking payments securely",
        "https://intranet.example/payments/secure-payments",
        "The secure payment line and payment links; card data never goes in notes or chat.",
    ),
    DemoResource(
        "direct-debit",
        "payments",
        "owen",
        "Direct Debits: collections, failures and dates",
        "https://intranet.example/payments/direct-debit",
        "Collection dates, re-presentation, notice periods and the Direct Debit Guarantee.",
    ),
    DemoResource(
        "vulnerability-guide",
        "vulnerable-customers",
        "nadia",
        "Supporting customers in vulnerable circumstances",
        "https://intranet.example/vulnerability/guide",
        "Spotting the signs, TEXAS, recording support needs with consent.",
    ),
    DemoResource(
        "crisis-calls",
        "vulnerable-customers",
        "nadia",
        "Crisis calls: what to do",
        "https://intranet.example/vulnerability/crisis-calls",
        "When a customer talks about harming themselves: the procedure and who to tell.",
    ),
    DemoResource(
        "third-party-access",
        "vulnerable-customers",
        "admin",
        "Third-party access: attorneys, deputies and executors",
        "https://intranet.example/vulnerability/third-party-access",
        "What we need to see before someone can act on a customer's behalf.",
    ),
)


CLAIMS = (
    DemoThread(
        author="alice",
        topic="claims",
        title="Can a customer claim for accidental damage to a laptop at work?",
        body=md(
            """
            Home contents policy with accidental damage cover. The laptop belongs to the
            customer but was damaged in the office. Is that covered?
            """
        ),
        tags=("contents", "accidental-damage"),
        answers=(
            DemoAnswer(
                "bob",
                md(
                    """
                    Only if the policy has **personal possessions** cover: accidental damage
                    on its own applies inside the home.

                    Check the schedule for the personal possessions section, and whether the
                    laptop is over the single-item limit.
                    """
                ),
                reviews=(DemoReview("erin", references=("handbook",)),),
                up=("alice", "george", "hannah"),
                comments=(
                    ("erin", "Check the schedule for the personal possessions section first."),
                ),
            ),
            DemoAnswer(
                "alice",
                "Yes, accidental damage covers everything the customer owns, wherever it is.",
                reviews=(
                    DemoReview(
                        "erin",
                        "reject",
                        rationale="Accidental damage on its own only covers items in the home.",
                        references=("handbook",),
                    ),
                ),
                flags=(("bob", "I think this only applies inside the home."),),
            ),
            DemoAnswer(
                "bob",
                "No: laptops are business equipment and never covered by home insurance.",
                reviews=(
                    DemoReview(
                        "erin",
                        "correct",
                        rationale="A personally owned laptop can be covered.",
                        correction="A personally owned laptop is covered away from home only "
                        "under personal possessions cover; check the schedule.",
                    ),
                ),
            ),
        ),
    ),
    DemoThread(
        author="hannah",
        topic="claims",
        title="Does a windscreen claim affect the customer's no claims discount?",
        body=md(
            """
            Customer has a chip that has spread into a crack across the driver's side. They
            are worried that claiming will cost them their NCD at renewal. Comprehensive
            motor policy.
            """
        ),
        tags=("motor", "windscreen", "ncd"),
        answers=(
            DemoAnswer(
                "george",
                md(
                    """
                    No. On our comprehensive policies a windscreen or window claim on its own
                    **doesn't affect the no claims discount**.

                    - Book it with our glass partner through the claims portal, not a garage of
                      the customer's choice, or the glass limit on the schedule applies.
                    - A repair usually has no excess; a replacement has the windscreen excess
                      shown on the schedule, which is lower than the main excess.
                    - If other damage was done at the same time (a stone also dented the
                      bonnet), it's a normal claim and the NCD rules apply.
                    """
                ),
                reviews=(DemoReview("owen", references=("motor-guide",)),),
                up=("hannah", "alice", "fatima"),
            ),
            DemoAnswer(
                "fatima",
                "Yes, any claim at all takes two years off the NCD unless it's protected.",
                reviews=(
                    DemoReview(
                        "owen",
                        "reject",
                        rationale="Glass-only claims on comprehensive cover don't touch the "
                        "NCD, protected or not. See section 4 of the motor claims guide.",
                        references=("motor-guide",),
                    ),
                ),
                down=("george",),
            ),
        ),
        comments=(("hannah", "Customer is holding. Thanks all, George's answer did it."),),
    ),
    DemoThread(
        author="alice",
        topic="claims",
        title="Escape of water: do we pay to find the leak as well as fix the damage?",
        body=md(
            """
            Water coming through the kitchen ceiling from the bathroom above. The plumber says
            the floor has to come up to find which pipe is leaking. Customer asks whether we
            pay for that, and for the new pipe.
            """
        ),
        tags=("home", "escape-of-water", "trace-and-access"),
        answers=(
            DemoAnswer(
                "owen",
                md(
                    """
                    Yes to finding it, no to the pipe itself:

                    1. **Trace and access** (lifting the floor, making good afterwards) is
                       covered up to the limit on the schedule: £5,000 on Home Plus.
                    2. The **damage the water caused** (ceiling, kitchen units, contents if
                       they have contents cover) is covered, less the escape of water excess.
                    3. Repairing the pipe, joint or appliance that failed is **not** covered:
                       that's wear and tear.

                    Ask them to turn the water off at the stopcock and send photos before
                    anything is ripped out. Details in the
                    [home claims guide](https://intranet.example/claims/home-perils).
                    """
                ),
                reviews=(DemoReview("erin", references=("home-claims",)),),
                up=("alice", "hannah", "bob"),
            ),
            DemoAnswer(
                "hannah",
                "Yes, we pay for everything, including replacing the leaking pipe.",
                reviews=(
                    DemoReview(
                        "erin",
                        "correct",
                        rationale="The failed part itself is excluded as wear and tear.",
                        correction=md(
                            """
                            We pay to find the leak (trace and access, up to the schedule
                            limit) and for the damage the water caused. The repair of the pipe,
                            tap or appliance that leaked is not covered, unless the customer
                            also has home emergency cover.
                            """
                        ),
                        references=("home-claims",),
                    ),
                ),
            ),
        ),
    ),
    DemoThread(
        author="george",
        topic="claims",
        title="Customer hit by an uninsured driver: will they lose their no claims discount?",
        body=md(
            """
            Other driver drove off, but the customer got the registration and the police have
            since told them the car had no insurance. Our customer is comprehensive. Will this
            count against them?
            """
        ),
        tags=("motor", "uninsured-driver", "ncd"),
        answers=(
            DemoAnswer(
                "alice",
                md(
                    """
                    Not if it wasn't their fault. Under our **Uninsured Driver Promise**,
                    comprehensive customers hit by an uninsured driver pay no excess and keep
                    their NCD, as long as they give us:

                    - the other vehicle's registration, and ideally the driver's details;
                    - the police crime or incident reference.

                    Log it as non-fault and note the police reference on the claim.
                    """
                ),
                reviews=(DemoReview("owen", references=("motor-guide",)),),
                up=("george", "bob"),
            ),
            DemoAnswer(
                "fatima",
                "They have to claim from the Motor Insurers' Bureau themselves; there's "
                "nothing we can do on their own policy.",
                flags=(
                    (
                        "george",
                        "Comprehensive customers claim through us under the Uninsured Driver "
                        "Promise, surely? The MIB is for third-party-only cover.",
                    ),
                ),
            ),
        ),
    ),
    DemoThread(
        author="fatima",
        topic="claims",
        title="Fence blown down in last week's storm: is it covered on buildings insurance?",
        body=md(
            """
            Whole run of fence panels down at the back of the garden after the storm on
            Thursday night. No other damage. Customer has buildings cover with us.
            """
        ),
        tags=("home", "storm", "exclusions"),
        answers=(
            DemoAnswer(
                "bob",
                md(
                    """
                    Sadly not: our buildings cover **excludes fences, gates and hedges** from
                    storm damage (storm and flood exclusions, section 1 of the wording).

                    If the storm damaged the house, garage or shed as well, that part is a
                    normal storm claim: we check the weather for the postcode and date on the
                    claims portal.
                    """
                ),
                reviews=(DemoReview("erin", references=("home-claims",)),),
                up=("fatima",),
                comments=(
                    (
                        "erin",
                        "Worth adding: note the date and time the customer noticed the "
                        "damage; the weather check needs it.",
                    ),
                ),
            ),
        ),
    ),
    DemoThread(
        author="hannah",
        topic="claims",
        title="Theft reported six weeks after it happened: can we decline for late notice?",
        body=md(
            """
            Bike stolen from the garage in early March, customer only calling now. The policy
            says they must tell us as soon as possible. Can I tell them it won't be paid?
            """
        ),
        tags=("notification", "theft", "declinature"),
        answers=(
            DemoAnswer(
                "george",
                "Yes: it's a condition of the policy that we're told as soon as possible, so we "
                "can decline it.",
                reviews=(
                    DemoReview(
                        "erin",
                        "correct",
                        rationale="Declining on lateness alone, when the delay has not harmed "
                        "our position, is unfair and would not survive a complaint to the "
                        "Financial Ombudsman Service.",
                        correction=md(
                            """
                            Not on lateness alone. The condition asks for notice as soon as
                            reasonably possible, but we only decline or reduce a claim for late
                            notice where the delay has actually prejudiced us (for example, we
                            can no longer check the loss or recover the goods).

                            Take the details, ask why it was reported late and note the answer,
                            then pass it to a claims handler. Don't tell the customer it will
                            be declined.
                            """
                        ),
                        references=("https://intranet.example/claims/conditions#notification",),
                    ),
                ),
                down=("alice",),
            ),
            DemoAnswer(
                "alice",
                "Log it anyway and pass it to a claims handler with a note of why it was late. "
                "It's their decision, not ours on the phone.",
                up=("hannah",),
            ),
        ),
    ),
    DemoThread(
        author="alice",
        topic="claims",
        title="What do Cat S and Cat N mean when a customer's car is written off?",
        body="The engineer's report says Cat N. The customer wants to know what that means and "
        "whether they can keep the car.",
        tags=("motor", "total-loss", "salvage"),
        answers=(
            DemoAnswer(
                "bob",
                md(
                    """
                    They're the salvage categories:

                    | category | means |
                    | --- | --- |
                    | A | scrap only, nothing can be reused |
                    | B | body shell crushed, some parts can be salvaged |
                    | S | structural damage, can be repaired and go back on the road |
                    | N | non-structural damage, can be repaired and go back on the road |

                    With **Cat N** the customer can ask to keep the car: we deduct the salvage
                    value from the settlement, and they must tell the DVLA. The category stays
                    on the car's history, which lowers its resale value.
                    """
                ),
                reviews=(DemoReview("erin", references=("motor-guide",)),),
                up=("alice", "george", "hannah"),
            ),
        ),
    ),
    DemoThread(
        author="george",
        topic="claims",
        title="Can the customer's husband make the claim on her behalf?",
        body=md(
            """
            Policy is in the wife's name only. Husband is calling to report a burglary; she is
            at work. Can I take the claim from him?
            """
        ),
        tags=("data-protection", "third-party", "authority"),
        answers=(
            DemoAnswer(
                "nadia",
                md(
                    """
                    You can **take the details of the loss** from him, but you can't discuss the
                    policy or the claim with him unless he's a named policyholder or she has
                    given us authority to speak to him.

                    - If she can join the call, get her permission and note it on the policy.
                    - Otherwise take his details, open the claim, and call her back to confirm.

                    Being married doesn't give anyone authority over someone else's policy.
                    """
                ),
                reviews=(DemoReview("erin"),),
                up=("george", "alice"),
            ),
            DemoAnswer(
                "fatima",
                "Spouses can deal with each other's policies, so yes, just go ahead.",
                down=("george",),
            ),
        ),
    ),
    DemoThread(
        author="fatima",
        topic="claims",
        title="Do we provide a courtesy car if the car is a write-off?",
        body="Customer has just been told the car is a total loss and is asking when the "
        "courtesy car arrives.",
        tags=("motor", "courtesy-car", "total-loss"),
        answers=(
            DemoAnswer(
                "alice",
                md(
                    """
                    No: the courtesy car comes **with a repair at one of our approved
                    repairers**, so it stops once the car is declared a total loss.

                    Customers with the **Guaranteed Hire Car** add-on get a hire car for up to
                    21 days after a write-off. Check the schedule for the add-on.
                    """
                ),
                reviews=(DemoReview("owen", references=("motor-guide",)),),
                up=("fatima",),
            ),
        ),
    ),
    DemoThread(
        author="hannah",
        topic="claims",
        title="Subsidence claim: what excess applies and who arranges the surveyor?",
        body=md(
            """
            Customer has diagonal cracks above two doorframes that have appeared over the
            summer. They think it's subsidence. What do I tell them about the excess, and do
            they need to get their own surveyor?
            """
        ),
        tags=("home", "subsidence"),
    ),
)


POLICY_SERVICING = (
    DemoThread(
        author="bob",
        topic="policy-servicing",
        title="How many days does a customer have to cancel a new policy?",
        body="A customer bought a policy last week and has changed their mind.",
        tags=("cancellation", "cooling-off"),
        answers=(
            DemoAnswer(
                "alice",
                md(
                    """
                    There is a **14-day cooling-off period** from the start date or from
                    receiving the documents, whichever is later.

                    In that period there's no cancellation fee: they get the premium back less
                    a proportionate charge for the days they were covered.
                    """
                ),
                reviews=(DemoReview("paul", references=("cancellations",)),),
                up=("bob",),
            ),
        ),
    ),
    DemoThread(
        author="alice",
        topic="policy-servicing",
        title="Adding the customer's son as a named driver mid-term: what do I need?",
        body="He's just passed his test and will drive her car at weekends.",
        tags=("motor", "mid-term-adjustment", "named-driver"),
        answers=(
            DemoAnswer(
                "bob",
                md(
                    """
                    It's a mid-term adjustment, so it's rated like a new quote. You need his:

                    1. full name, date of birth and relationship to the policyholder;
                    2. licence type and the date he passed;
                    3. occupation;
                    4. any claims or convictions in the last five years.

                    Quote the extra premium plus the adjustment fee from the Terms of Business,
                    and confirm he's covered only from the time the customer accepts. New
                    drivers often make a big difference to the price, so warn her first.
                    """
                ),
                reviews=(DemoReview("paul", references=("mta",)), DemoReview("priya")),
                up=("alice", "hannah"),
            ),
            DemoAnswer(
                "george",
                "Just add him on the system, there's no charge for named drivers.",
                reviews=(
                    DemoReview(
                        "paul",
                        "reject",
                        rationale="A new driver changes the risk: the change is rated and "
                        "usually costs extra, plus the adjustment fee.",
                        references=("mta",),
                    ),
                ),
            ),
        ),
    ),
    DemoThread(
        author="hannah",
        topic="policy-servicing",
        title="Renewal price is higher than a new-customer quote: what can I tell them?",
        body=md(
            """
            Customer's home renewal is £412. They say they got a quote for £355 on our own
            website yesterday for the same house. They're not happy.
            """
        ),
        tags=("renewal", "pricing", "enbp"),
        answers=(
            DemoAnswer(
                "fatima",
                md(
                    """
                    Since January 2022 the FCA's pricing rules mean a home or motor renewal
                    price **can't be higher than the equivalent new business price**: what we'd
                    charge a new customer for the same cover through the same channel.

                    So first check the quotes really are like for like:

                    - same cover level, excesses and add-ons;
                    - same channel (our website, not a comparison site);
                    - same details (claims, occupation, security).

                    If they are, it's a pricing fault, not something to negotiate: raise it
                    with the renewal price query form and tell the customer we'll correct it.
                    """
                ),
                reviews=(DemoReview("paul", references=("renewals",)), DemoReview("priya")),
                up=("hannah", "alice", "bob"),
            ),
            DemoAnswer(
                "george",
                "Offer a loyalty discount to match it, we're allowed up to 15%.",
                reviews=(
                    DemoReview(
                        "paul",
                        "correct",
                        rationale="A like-for-like renewal above the new business price breaks "
                        "the pricing rules; a discount hides the fault instead of fixing it.",
                        correction=md(
                            """
                            Don't discount to match. Check the two quotes are like for like; if
                            they are, the renewal price is above the equivalent new business
                            price, which the rules don't allow, so raise it through the renewal
                            price query form and the price is corrected.
                            """
                        ),
                        references=("renewals",),
                    ),
                ),
            ),
        ),
    ),
    DemoThread(
        author="george",
        topic="policy-servicing",
        title="How does a customer stop their policy renewing automatically?",
        body="They don't want to cancel now, they just don't want it to roll over next year "
        "without them deciding.",
        tags=("renewal", "auto-renewal"),
        answers=(
            DemoAnswer(
                "hannah",
                md(
                    """
                    Any way they like: phone, webchat, or the **Don't renew automatically**
                    switch in My Account. It has to be as easy to turn off as it was to turn on:
                    no charge, and they don't have to give a reason.

                    Turn it off on the policy and the system sends a confirmation. Their cover
                    carries on to the renewal date, and they'll still get the renewal invitation
                    with the price.
                    """
                ),
                reviews=(DemoReview("paul", references=("renewals",)),),
                up=("george",),
            ),
        ),
    ),
    DemoThread(
        author="bob",
        topic="policy-servicing",
        title="Customer going travelling for three months: anything to do on the home policy?",
        body="House will be empty from next month until the end of the summer.",
        tags=("home", "unoccupancy"),
        answers=(
            DemoAnswer(
                "alice",
                md(
                    """
                    Yes. Once a home is **unoccupied for more than 60 days in a row**, cover for
                    escape of water, theft, malicious damage and accidental damage is
                    restricted (see *Unoccupancy* in the wording). Note the dates on the policy
                    and tell the customer the conditions that keep the rest of the cover:

                    - water turned off at the mains and the system drained, or the heating kept
                      on at a minimum of 12°C;
                    - someone checking inside the home at least once a week.
                    """
                ),
                reviews=(DemoReview("priya"),),
                up=("bob", "george"),
            ),
            DemoAnswer(
                "fatima",
                "Nothing needed as long as a neighbour picks up the post.",
                reviews=(
                    DemoReview(
                        "priya",
                        "reject",
                        rationale="Collecting post doesn't meet the unoccupancy conditions; "
                        "after 60 days several parts of the cover are restricted.",
                    ),
                ),
                down=("alice",),
            ),
        ),
    ),
    DemoThread(
        author="fatima",
        topic="policy-servicing",
        title="Change of address mid-term: can the cover just move with the customer?",
        body="Customer has home and motor with us and is moving house on the 14th.",
        tags=("home", "motor", "change-of-address"),
        answers=(
            DemoAnswer(
                "george",
                md(
                    """
                    Different for each policy:

                    - **Motor**: update the address as a mid-term adjustment. The premium may
                      change (postcode, where the car is kept overnight).
                    - **Home**: the policy insures *that* property, so the new home is a new
                      risk. Quote the new address to start on completion day, and keep the old
                      policy until the old house is sold or handed back (it may be empty for a
                      while: the unoccupancy rules apply).
                    """
                ),
                reviews=(DemoReview("paul", references=("mta",)), DemoReview("priya")),
                up=("fatima", "alice", "hannah"),
            ),
            DemoAnswer(
                "hannah",
                "Just change the address on the system, the cover moves over automatically.",
                flags=(
                    (
                        "alice",
                        "For a home policy this would leave the new house uninsured and cancel "
                        "the old one's cover, wouldn't it?",
                    ),
                ),
            ),
        ),
    ),
    DemoThread(
        author="hannah",
        topic="policy-servicing",
        title="Customer changed her name after marrying: do we need the certificate?",
        body="She wants both her home and motor documents in her new name.",
        tags=("personal-details", "documents"),
        answers=(
            DemoAnswer(
                "bob",
                "No, just update the name and reissue the documents.",
                revised=md(
                    """
                    No, we don't need to see the marriage certificate: update the name on both
                    policies and reissue the documents.

                    For the motor policy, remind her that she must also update her driving
                    licence and the car's logbook (V5C) with the DVLA.
                    """
                ),
                reviews=(DemoReview("paul", references=("mta",)),),
                up=("hannah",),
            ),
        ),
    ),
    DemoThread(
        author="alice",
        topic="policy-servicing",
        title="Customer wants to cancel after the cooling-off period: what refund do they get?",
        body="Policy started four months ago; they've sold the car.",
        tags=("cancellation", "refund"),
        answers=(
            DemoAnswer(
                "fatima",
                md(
                    """
                    A **pro-rata refund** of the premium for the unused months, less the
                    cancellation fee in the Terms of Business.

                    If there has been a claim in this policy year there's no refund, and if
                    they pay monthly any balance still owed for the cover they had is collected.
                    Quote the figure from the cancellation screen before confirming.
                    """
                ),
                reviews=(
                    DemoReview("paul", references=("cancellations",)),
                    DemoReview("priya"),
                ),
                up=("alice", "bob"),
            ),
            DemoAnswer(
                "george",
                "They get a full refund as long as they cancel within 30 days of a change.",
                reviews=(
                    DemoReview(
                        "paul",
                        "reject",
                        rationale="There is no 30-day rule. Outside the 14-day cooling-off "
                        "period the refund is pro rata less the cancellation fee, and nothing "
                        "after a claim.",
                        references=("cancellations",),
                    ),
                ),
            ),
        ),
    ),
    DemoThread(
        author="george",
        topic="policy-servicing",
        title="Can we backdate a mid-term change the customer forgot to tell us about?",
        body=md(
            """
            Customer changed jobs in January and has only just mentioned it. New occupation is
            rated differently. Do I put the change in from today or from January?
            """
        ),
        tags=("mid-term-adjustment", "disclosure"),
    ),
)


COMPLAINTS = (
    DemoThread(
        author="alice",
        topic="complaints",
        title="When does an expression of dissatisfaction count as a complaint?",
        body="A customer grumbled on the phone but said they did not want to complain.",
        tags=("definition",),
        answers=(
            DemoAnswer(
                "bob",
                md(
                    """
                    Any expression of dissatisfaction about the service counts, whether or not
                    the customer calls it a complaint, and whether it's spoken or written,
                    justified or not.

                    Log it. If you put it right on the call, you can close it quickly with a
                    summary resolution communication.
                    """
                ),
                reviews=(DemoReview("nadia", references=("procedure",)),),
                up=("alice", "fatima"),
                comments=(
                    (
                        "erin",
                        "And the second half of the definition: the customer says they've lost "
                        "out, or been caused distress or inconvenience. Most grumbles do.",
                    ),
                ),
            ),
        ),
    ),
    DemoThread(
        author="fatima",
        topic="complaints",
        title="How long do we have to send a final response to a complaint?",
        body="Customer complained three weeks ago about a claim delay and is chasing.",
        tags=("final-response", "time-limits", "ombudsman"),
        answers=(
            DemoAnswer(
                "george",
                md(
                    """
                    **Eight weeks** from the day we received it. By then we must have sent
                    either a final response, or a letter explaining why we can't respond yet.

                    Either way the letter tells the customer they can refer the complaint to
                    the Financial Ombudsman Service, and that they have **six months** from our
                    final response to do so.
                    """
                ),
                reviews=(DemoReview("erin", references=("procedure", "letters")),),
                up=("fatima", "hannah", "alice", "bob"),
            ),
            DemoAnswer(
                "alice",
                "28 days, then it goes to the ombudsman automatically.",
                reviews=(
                    DemoReview(
                        "nadia",
                        "reject",
                        rationale="It's eight weeks, and nothing goes to the ombudsman "
                        "automatically: the customer decides whether to refer it.",
                        references=("procedure",),
                    ),
                ),
            ),
        ),
    ),
    DemoThread(
        author="hannah",
        topic="complaints",
        title="Customer complained about their claim on Twitter: is that a complaint?",
        revised_title="Customer complained about their claim on X (Twitter): is that a complaint?",
        body="Public post tagging our account, calling us a disgrace for not calling back.",
        tags=("social-media", "definition"),
        answers=(
            DemoAnswer(
                "bob",
                md(
                    """
                    Yes, once we know who they are it's a complaint like any other. Don't reply
                    with any policy details in public: the social media team replies asking them
                    to send a direct message, checks they're a customer, and then logs the
                    complaint with the date of the original post as the date received.
                    """
                ),
                reviews=(DemoReview("nadia", references=("procedure",)),),
                up=("hannah",),
            ),
        ),
    ),
    DemoThread(
        author="alice",
        topic="complaints",
        title="Can we close a complaint quickly if we sort it out on the call?",
        body="Customer unhappy that their documents hadn't arrived; I resent them and they were "
        "happy.",
        tags=("summary-resolution", "closing"),
        answers=(
            DemoAnswer(
                "hannah",
                md(
                    """
                    Yes. If it's resolved to the customer's satisfaction **by close of business
                    on the third business day** after we received it, we can send a *summary
                    resolution communication* (SRC) instead of a final response.

                    The SRC says the complaint is resolved and tells them about their right to
                    go to the ombudsman if they later change their mind. It still gets logged:
                    these complaints are reported too.
                    """
                ),
                reviews=(DemoReview("erin", references=("letters",)),),
                up=("alice", "george"),
            ),
            DemoAnswer(
                "george",
                "Yes, if it's sorted within 24 hours we don't need to log it.",
                reviews=(
                    DemoReview(
                        "erin",
                        "correct",
                        rationale="Complaints resolved quickly are still complaints: recorded, "
                        "reported, and closed with an SRC.",
                        correction="Yes, if it's resolved by close of business on the third "
                        "business day after we received it; it's still logged, and closed with "
                        "a summary resolution communication that includes the ombudsman "
                        "referral rights.",
                        references=("letters",),
                    ),
                ),
            ),
        ),
    ),
    DemoThread(
        author="george",
        topic="complaints",
        title="Customer unhappy with the repairer we sent: our complaint or theirs?",
        body="Repairer left the kitchen in a mess and hasn't come back to finish. Customer wants "
        "to complain. Do I give them the repairer's number?",
        tags=("suppliers", "repairs"),
        answers=(
            DemoAnswer(
                "fatima",
                "Ours. The repairer works for us, so we log the complaint, investigate it with "
                "them and send the final response. Don't pass the customer on.",
                up=("george",),
                comments=(("bob", "Supplier complaints form is on the claims portal too."),),
            ),
        ),
    ),
    DemoThread(
        author="bob",
        topic="complaints",
        title="A claims management company has complained for the customer: can I talk to them?",
        body="Letter from a claims management company about a declined claim; no signature "
        "from the customer attached.",
        tags=("third-party", "authority", "claims-management"),
        answers=(
            DemoAnswer(
                "alice",
                md(
                    """
                    Only once we have a **letter of authority signed by the customer**. Until
                    then:

                    1. Log the complaint (the time limits run from when we received it).
                    2. Write to the company asking for the signed authority.
                    3. Check the firm on the FCA register: claims management companies have
                       been FCA-regulated since April 2019.
                    """
                ),
                reviews=(DemoReview("nadia", references=("procedure",)),),
                up=("bob", "george"),
            ),
            DemoAnswer(
                "fatima",
                "No, we only ever talk to the customer about complaints.",
                flags=(("alice", "We can deal with them once there's a letter of authority."),),
            ),
        ),
    ),
    DemoThread(
        author="hannah",
        topic="complaints",
        title="What has to go in a final response letter?",
        body="First time writing one myself. Is there a checklist?",
        tags=("final-response", "letters"),
        answers=(
            DemoAnswer(
                "paul",
                md(
                    """
                    Use the template, which covers all of it:

                    - a summary of the complaint and what we found;
                    - whether we uphold it, in full or in part, and why;
                    - what we're doing to put it right (redress), and how to accept;
                    - the right to refer to the Financial Ombudsman Service, the **six-month**
                      time limit, and the ombudsman's website and leaflet;
                    - whether we consent to the ombudsman looking at it if it's referred late.
                    """
                ),
                reviews=(DemoReview("nadia", references=("letters",)),),
                up=("hannah", "fatima"),
            ),
        ),
    ),
)


PAYMENTS = (
    DemoThread(
        author="alice",
        topic="payments",
        title="Customer's monthly Direct Debit has bounced: what happens next?",
        body="First missed payment, motor policy paid monthly.",
        tags=("direct-debit", "missed-payment"),
        answers=(
            DemoAnswer(
                "bob",
                md(
                    """
                    We try to collect it again automatically about seven days later and write to
                    the customer. If the second attempt fails too, we write again giving at
                    least **seven days' notice** before the policy is cancelled.

                    On the call: offer to take the missed amount by card on the secure payment
                    line, and if they're struggling, transfer them to the financial support team
                    rather than just re-presenting.
                    """
                ),
                reviews=(DemoReview("priya", references=("direct-debit",), days_ago=41),),
                up=("alice", "george"),
            ),
            DemoAnswer(
                "hannah",
                "The policy is cancelled straight away and they have to buy a new one.",
                down=("bob",),
            ),
        ),
    ),
    DemoThread(
        author="george",
        topic="payments",
        title="Can a customer pay their premium with someone else's card?",
        body="Customer's mum wants to pay the annual premium for him.",
        tags=("card-payments", "third-party"),
        answers=(
            DemoAnswer(
                "hannah",
                md(
                    """
                    Yes, if the **cardholder** agrees to the payment themselves: speak to the
                    mum, put her through the secure payment line, and note her name on the
                    policy. Any refund later goes back to her card, so tell them both.
                    """
                ),
                reviews=(DemoReview("owen", references=("secure-payments",)),),
                up=("george",),
            ),
        ),
    ),
    DemoThread(
        author="hannah",
        topic="payments",
        title="A customer typed their full card number into webchat: what do I do?",
        body="Happened just now, the chat is still open.",
        tags=("card-data", "webchat", "data-incident"),
        answers=(
            DemoAnswer(
                "alice",
                md(
                    """
                    1. **Don't copy it anywhere** and don't use it.
                    2. Use the *Mask* action on the message so it's removed from the transcript.
                    3. Tell the customer we've deleted it and never take card details in chat.
                    4. Send them a secure payment link instead.
                    5. Report it on the data incident form before the end of your shift.
                    """
                ),
                reviews=(DemoReview("priya", references=("secure-payments",)),),
                up=("hannah", "bob", "george", "fatima"),
            ),
            DemoAnswer(
                "george",
                "Take the payment from the details in the chat and then delete the message.",
                reviews=(
                    DemoReview(
                        "priya",
                        "reject",
                        rationale="We never process card numbers typed into chat: the card "
                        "security rules mean they mustn't be stored or used, only removed.",
                        references=("secure-payments",),
                    ),
                ),
                down=("alice",),
            ),
        ),
    ),
    DemoThread(
        author="bob",
        topic="payments",
        title="Can we refund a cancelled policy to a different card?",
        body="The card they paid with has been replaced after fraud on their account.",
        tags=("refund", "card-payments"),
        answers=(
            DemoAnswer(
                "george",
                md(
                    """
                    No: refunds go back to the card or account the payment came from. A
                    replacement card on the same account usually receives it anyway; the bank
                    forwards it.

                    If the account is closed, refund by bank transfer to an account **in the
                    policyholder's name**, after the identity checks on the refunds page.
                    """
                ),
                reviews=(DemoReview("owen", references=("secure-payments",), days_ago=47),),
                up=("bob",),
            ),
        ),
    ),
    DemoThread(
        author="fatima",
        topic="payments",
        title="Customer wants to change the date their Direct Debit comes out",
        body="They've changed jobs and get paid on the 25th now.",
        tags=("direct-debit", "payment-date"),
        answers=(
            DemoAnswer(
                "hannah",
                "Yes, any day from the 1st to the 28th. Change it on the payments screen; we "
                "have to give **10 working days' notice** of the new date, so if the next "
                "collection is sooner than that it moves to the following month.",
                reviews=(DemoReview("priya", references=("direct-debit",), days_ago=38),),
                up=("fatima",),
            ),
        ),
    ),
    DemoThread(
        author="george",
        topic="payments",
        title="Direct Debit Guarantee: can the customer get their money back from the bank?",
        body="We took two payments in one month by mistake. Customer is asking whether they have "
        "to wait for us.",
        tags=("direct-debit", "refund"),
        answers=(
            DemoAnswer(
                "bob",
                md(
                    """
                    They don't have to wait. Under the **Direct Debit Guarantee**, if a payment
                    is taken in error the customer is entitled to a full and immediate refund
                    from their bank, without needing our agreement.

                    Apologise, tell them that, and log the error so we don't re-collect. It's
                    also a complaint if they're unhappy about it.
                    """
                ),
                reviews=(DemoReview("owen", references=("direct-debit",), days_ago=33),),
                up=("george", "fatima"),
            ),
            DemoAnswer(
                "alice",
                "They need to ask us for the refund first; the bank won't do it without us.",
                down=("bob",),
            ),
        ),
    ),
    DemoThread(
        author="alice",
        topic="payments",
        title="Customer says they can't afford the monthly instalments: what can we offer?",
        body="Lost hours at work; wants to know whether to cancel the home insurance.",
        tags=("financial-difficulty", "instalments"),
        answers=(
            DemoAnswer(
                "fatima",
                md(
                    """
                    Don't just cancel. Transfer them to the **financial support team**, who can
                    look at:

                    - moving the payment date to just after payday;
                    - reviewing the cover, excess or add-ons to bring the premium down;
                    - a short payment arrangement.

                    If they tell you about their circumstances, ask whether they'd like us to
                    note any support they need, and record it with their consent.
                    """
                ),
                reviews=(DemoReview("priya"),),
                up=("alice", "hannah"),
            ),
            DemoAnswer(
                "george",
                "Tell them to cancel and get a cheaper quote somewhere else.",
                reviews=(
                    DemoReview(
                        "owen",
                        "correct",
                        rationale="Customers in financial difficulty get support first; "
                        "cancelling can leave them uninsured, and they may lose more than they "
                        "save.",
                        correction="Explain the options before anything is cancelled: a new "
                        "payment date, a review of the cover to lower the premium, or a payment "
                        "arrangement through the financial support team. Cancelling may leave "
                        "them uninsured.",
                    ),
                ),
            ),
        ),
    ),
    DemoThread(
        author="george",
        topic="payments",
        title="Why is the monthly total more than the annual premium?",
        body="Customer has worked out that twelve instalments come to £38 more than paying in "
        "one go.",
        tags=("instalments", "credit"),
        answers=(
            DemoAnswer(
                "hannah",
                md(
                    """
                    Paying monthly is a **credit agreement** with our premium finance provider,
                    so there's interest. The APR and total amount payable are on the quote and
                    in the credit agreement the customer signed.

                    Paying annually avoids the interest. They can switch at renewal, or pay off
                    the balance early at any time.
                    """
                ),
                reviews=(DemoReview("owen"),),
                up=("george", "alice"),
            ),
        ),
    ),
)


VULNERABLE_CUSTOMERS = (
    DemoThread(
        author="hannah",
        topic="vulnerable-customers",
        title="Customer says they've just been diagnosed with cancer: what should I do?",
        body="They mentioned it while we were going through a claim and said they're finding it "
        "hard to take things in.",
        tags=("disclosure", "health", "texas"),
        answers=(
            DemoAnswer(
                "alice",
                md(
                    """
                    Slow down and use **TEXAS**:

                    - **T**hank them for telling you.
                    - **E**xplain how we'll use what they've told us.
                    - Get e**X**plicit consent before recording anything.
                    - **A**sk what would help: calls at a set time, a written summary after each
                      call, someone else on the account with them.
                    - **S**ignpost support, such as Macmillan, and our own specialist team.

                    Then record the *support they need* on the account.
                    """
                ),
                reviews=(DemoReview("nadia", references=("vulnerability-guide",)),),
                up=("hannah", "george", "bob", "fatima"),
            ),
            DemoAnswer(
                "george",
                "Put the diagnosis in the notes so the next person knows.",
                reviews=(
                    DemoReview(
                        "nadia",
                        "correct",
                        rationale="Health details are special category data: record only what "
                        "we need to help, with the customer's explicit consent.",
                        correction="With the customer's explicit consent, record the support "
                        "they need (e.g. 'prefers written summaries; calls after 2pm') in the "
                        "support-needs field, not the diagnosis itself.",
                        references=("vulnerability-guide",),
                    ),
                ),
            ),
        ),
    ),
    DemoThread(
        author="bob",
        topic="vulnerable-customers",
        title="Customer's daughter says she has power of attorney: can she change the policy?",
        body="Policyholder has dementia and the daughter now handles her affairs.",
        tags=("power-of-attorney", "third-party"),
        answers=(
            DemoAnswer(
                "fatima",
                md(
                    """
                    Yes, once we've seen it. We need a **registered lasting power of attorney
                    for property and financial affairs** (or a court deputyship order): a
                    certified copy, or an access code from the Office of the Public Guardian's
                    online service.

                    Send it to the third-party access team. Until it's on the account she can't
                    make changes, but you can take a message and note that she called.
                    """
                ),
                reviews=(DemoReview("nadia", references=("third-party-access",)),),
                up=("bob",),
            ),
        ),
    ),
    DemoThread(
        author="george",
        topic="vulnerable-customers",
        title="Customer is deaf: how can they contact us by phone?",
        body="They emailed asking for a way to discuss their claim that isn't webchat.",
        tags=("accessibility", "relay-uk"),
        answers=(
            DemoAnswer(
                "erin",
                md(
                    """
                    **Relay UK**: they type, a relay assistant speaks to us and types our
                    replies back. From a textphone they dial `18001` before our number; from a
                    smartphone they use the Relay UK app. Treat it as a normal call with the
                    customer.

                    Also note their preferred contact method on the account so we don't keep
                    phoning them.
                    """
                ),
                reviews=(DemoReview("nadia", references=("vulnerability-guide",)),),
                up=("george", "hannah"),
            ),
        ),
    ),
    DemoThread(
        author="fatima",
        topic="vulnerable-customers",
        title="A customer said they're thinking of ending their life: what do I do?",
        body="Not on a call now, but it came up on a colleague's call yesterday and we weren't "
        "sure what the procedure is.",
        tags=("crisis", "safeguarding"),
        answers=(
            DemoAnswer(
                "alice",
                md(
                    """
                    Follow the [crisis call procedure](https://intranet.example/vulnerability/crisis-calls):

                    1. Stay calm, keep them on the line, and don't rush to end the call.
                    2. Ask directly whether they are safe right now.
                    3. If they are in **immediate danger**, call 999.
                    4. Otherwise, give them the Samaritans' number (116 123, free, any time)
                       and offer the specialist team.
                    5. Tell your team leader afterwards and take a break: these calls are hard.
                    """
                ),
                reviews=(DemoReview("nadia", references=("crisis-calls",)),),
                up=("fatima", "hannah", "bob", "george"),
            ),
        ),
    ),
    DemoThread(
        author="alice",
        topic="vulnerable-customers",
        title="Policyholder has died: what happens to the home insurance?",
        body="The son is calling; his father was the only policyholder. He's asking whether he "
        "needs to do anything.",
        tags=("bereavement", "home", "unoccupancy"),
        answers=(
            DemoAnswer(
                "bob",
                md(
                    """
                    Say sorry for their loss and take it gently. Then:

                    - the policy **carries on for the estate**: don't cancel it;
                    - we need a copy of the death certificate and the executor's details;
                    - if nobody lives there now, explain the unoccupancy conditions (after 60
                      days some cover is restricted);
                    - refer it to the bereavement team, who take it from there.
                    """
                ),
                reviews=(DemoReview("nadia", references=("third-party-access",)),),
                up=("alice", "fatima"),
            ),
            DemoAnswer(
                "george",
                "The policy ends when the policyholder dies, so the son needs a new policy.",
                reviews=(
                    DemoReview(
                        "nadia",
                        "reject",
                        rationale="Cancelling would leave the estate's home uninsured; the "
                        "policy continues for the estate while the executors deal with it.",
                        references=("third-party-access",),
                    ),
                ),
                down=("bob",),
            ),
            DemoAnswer(
                "hannah",
                "Nothing changes, the cover carries on exactly as before.",
                reviews=(
                    DemoReview(
                        "nadia",
                        "correct",
                        rationale="The cover continues, but an empty home is restricted after "
                        "60 days, and the executors need to tell us who is dealing with it.",
                        correction="The cover continues for the estate, but the bereavement "
                        "team needs the death certificate and the executor's details, and if "
                        "the home is empty the unoccupancy conditions apply after 60 days.",
                        references=("third-party-access",),
                    ),
                ),
            ),
        ),
        comments=(
            (
                "alice",
                "Thanks. He was worried he'd be on the hook for a lapse; I've passed him to "
                "the bereavement team.",
            ),
        ),
        acknowledge=(
            "nadia",
            "Two wrong answers on bereavement and cover: adding a bereavement section to the "
            "servicing refresher, booked for the next team briefing.",
        ),
    ),
    DemoThread(
        author="george",
        topic="vulnerable-customers",
        title="Can we send a customer's documents in large print or braille?",
        body="Customer is partially sighted and struggles with the standard documents.",
        tags=("accessibility", "documents"),
        answers=(
            DemoAnswer(
                "alice",
                "Yes: use the alternative formats request on the documents screen. Large print "
                "takes about five working days, braille and audio about ten. Note the format on "
                "the account so renewals come the same way.",
                up=("george",),
            ),
        ),
    ),
)


DEMO_THREADS = CLAIMS + POLICY_SERVICING + COMPLAINTS + PAYMENTS + VULNERABLE_CUSTOMERS
